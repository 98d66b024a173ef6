using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Ingress.Providers.E2b;

/// <summary>
/// E2B's webhook body in all three shapes: the seeds' and v1's camelCase, and v2's snake_case. Both spellings are
/// declared; which ones a body sets tells its shape, and <see cref="E2bEventNormalizer"/> reads the shape's own first.
/// </summary>
internal sealed class E2bWebhookBody
{
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("version")] public string? Version { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("timestamp"), JsonConverter(typeof(IsoTimestampConverter))] public DateTimeOffset? Timestamp { get; set; }

    [JsonPropertyName("eventCategory")] public string? EventCategory { get; set; }
    [JsonPropertyName("eventLabel")] public string? EventLabel { get; set; }
    [JsonPropertyName("eventData")] public E2bEventData? EventData { get; set; }
    [JsonPropertyName("sandboxId")] public string? SandboxId { get; set; }
    [JsonPropertyName("sandboxExecutionId")] public string? SandboxExecutionId { get; set; }
    [JsonPropertyName("sandboxTemplateId")] public string? SandboxTemplateId { get; set; }
    [JsonPropertyName("sandboxBuildId")] public string? SandboxBuildId { get; set; }
    [JsonPropertyName("sandboxTeamId")] public string? SandboxTeamId { get; set; }

    [JsonPropertyName("event_category")] public string? EventCategorySnake { get; set; }
    [JsonPropertyName("event_label")] public string? EventLabelSnake { get; set; }
    [JsonPropertyName("event_data")] public E2bEventData? EventDataSnake { get; set; }
    [JsonPropertyName("sandbox_id")] public string? SandboxIdSnake { get; set; }
    [JsonPropertyName("sandbox_execution_id")] public string? SandboxExecutionIdSnake { get; set; }
    [JsonPropertyName("sandbox_template_id")] public string? SandboxTemplateIdSnake { get; set; }
    [JsonPropertyName("sandbox_build_id")] public string? SandboxBuildIdSnake { get; set; }
    [JsonPropertyName("sandbox_team_id")] public string? SandboxTeamIdSnake { get; set; }

    public bool HasSnakeCaseFields =>
        EventCategorySnake is not null || EventLabelSnake is not null || EventDataSnake is not null || SandboxIdSnake is not null
        || SandboxExecutionIdSnake is not null || SandboxTemplateIdSnake is not null || SandboxBuildIdSnake is not null
        || SandboxTeamIdSnake is not null;
}

/// <summary><c>eventData</c> / <c>event_data</c>: sandbox_metadata is snake_case even inside v1's camelCase eventData.</summary>
internal sealed class E2bEventData
{
    [JsonPropertyName("sandbox_metadata"), JsonConverter(typeof(TextMapConverter))] public Dictionary<string, string>? SandboxMetadataSnake { get; set; }
    [JsonPropertyName("sandboxMetadata"), JsonConverter(typeof(TextMapConverter))] public Dictionary<string, string>? SandboxMetadata { get; set; }
    [JsonPropertyName("execution")] public E2bExecution? Execution { get; set; }
}

internal sealed class E2bExecution
{
    [JsonPropertyName("startedAt"), JsonConverter(typeof(IsoTimestampConverter))] public DateTimeOffset? StartedAt { get; set; }
    [JsonPropertyName("vcpuCount"), JsonConverter(typeof(NonNegativeInt32Converter))] public int? VcpuCount { get; set; }
    [JsonPropertyName("memoryMb"), JsonConverter(typeof(NonNegativeInt32Converter))] public int? MemoryMb { get; set; }
    [JsonPropertyName("executionTime"), JsonConverter(typeof(RoundedNonNegativeInt64Converter))] public long? ExecutionTime { get; set; }

    [JsonPropertyName("started_at"), JsonConverter(typeof(IsoTimestampConverter))] public DateTimeOffset? StartedAtSnake { get; set; }
    [JsonPropertyName("vcpu_count"), JsonConverter(typeof(NonNegativeInt32Converter))] public int? VcpuCountSnake { get; set; }
    [JsonPropertyName("memory_mb"), JsonConverter(typeof(NonNegativeInt32Converter))] public int? MemoryMbSnake { get; set; }
    [JsonPropertyName("execution_time"), JsonConverter(typeof(RoundedNonNegativeInt64Converter))] public long? ExecutionTimeSnake { get; set; }
}

/// <summary>
/// An ISO 8601 time as a string, in UTC. System.Text.Json's parser (any number of fraction digits, as Go's RFC 3339
/// nano writes them) gives an offset-less time the machine's local offset; E2B means UTC, so such a time is taken as UTC.
/// </summary>
internal sealed class IsoTimestampConverter : ReadOnlyConverter<DateTimeOffset?>
{
    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw new WireValueException("must be a string");
        }

        if (!reader.TryGetDateTimeOffset(out var parsed) || !reader.TryGetDateTime(out var local))
        {
            throw new WireValueException("is not an ISO 8601 time");
        }

        return local.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(local, TimeSpan.Zero) : parsed.ToUniversalTime();
    }
}

[JsonSourceGenerationOptions(Converters = [typeof(WireStringConverter)])]
[JsonSerializable(typeof(E2bWebhookBody))]
internal sealed partial class E2bWireContext : JsonSerializerContext;
