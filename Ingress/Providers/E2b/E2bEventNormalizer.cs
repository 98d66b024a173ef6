using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Pipeline.Messages.Sandboxes;
using Pipeline.Persistence;

namespace Pipeline.Ingress.Providers.E2b;

/// <summary>
/// Turns any of E2B's three body shapes (the seeds' camelCase, E2B's camelCase v1, E2B's snake_case v2) into one
/// <see cref="SandboxLifecycleEventV1"/>. The shape is told from the keys, never from headers.
/// </summary>
public static class E2bEventNormalizer
{
    public const string SeedFormat = "seed";
    public const string V1Format = "v1";
    public const string V2Format = "v2";

    private const string TypePrefix = "sandbox.lifecycle.";

    // Any of these at the top level marks the snake_case v2 body.
    private static readonly string[] SnakeCaseKeys =
    [
        "event_category", "event_label", "event_data", "sandbox_id", "sandbox_execution_id",
        "sandbox_template_id", "sandbox_build_id", "sandbox_team_id",
    ];

    public static NormalizationResult<SandboxLifecycleEventV1> Normalize(ReadOnlySpan<byte> rawBody, Guid receiptId) =>
        JsonFields.Parse<SandboxLifecycleEventV1>(rawBody, (root, raw) => Normalize(root, raw, receiptId));

    private static NormalizationResult<SandboxLifecycleEventV1> Normalize(JsonElement root, ReadOnlySpan<byte> rawBody, Guid receiptId)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Malformed("body is not a json object");
        }

        if (!JsonFields.TryReadString(root, ("version", "version"), out var version, out var error)
            || !JsonFields.TryReadString(root, ("id", "id"), out var id, out error)
            || !JsonFields.TryReadString(root, ("type", "type"), out var type, out error))
        {
            return Malformed(error);
        }

        // E2B has sent "version":"v2" with camelCase keys too, so the version alone also means v2.
        var snakeCase = string.Equals(version, V2Format, StringComparison.OrdinalIgnoreCase) || HasAnyProperty(root, SnakeCaseKeys);
        var format = snakeCase ? V2Format
            : id is not null || type is not null || version is not null ? V1Format
            : SeedFormat;

        // Each field is read under the format's own casing first, then under the other one.
        var keys = new KeyOrder(snakeCase);
        if (!JsonFields.TryReadString(root, keys.Of("event_label", "eventLabel"), out var label, out error)
            || !JsonFields.TryReadString(root, keys.Of("event_category", "eventCategory"), out _, out error)
            || !JsonFields.TryReadString(root, keys.Of("sandbox_id", "sandboxId"), out var sandboxId, out error)
            || !JsonFields.TryReadString(root, keys.Of("sandbox_execution_id", "sandboxExecutionId"), out var executionId, out error)
            || !JsonFields.TryReadString(root, keys.Of("sandbox_template_id", "sandboxTemplateId"), out var templateId, out error)
            || !JsonFields.TryReadString(root, keys.Of("sandbox_build_id", "sandboxBuildId"), out var buildId, out error)
            || !JsonFields.TryReadString(root, keys.Of("sandbox_team_id", "sandboxTeamId"), out var teamId, out error)
            || !TryReadTimestamp(root, ("timestamp", "timestamp"), required: true, out var occurredAt, out error)
            || !JsonFields.TryReadObject(root, keys.Of("event_data", "eventData"), out var eventData, out error))
        {
            return Malformed(error);
        }

        if (string.IsNullOrWhiteSpace(sandboxId))
        {
            return Malformed("missing sandbox id");
        }

        if (string.IsNullOrWhiteSpace(label) && string.IsNullOrWhiteSpace(type))
        {
            return Malformed("missing event label and type");
        }

        // The Sandboxes service stores these ids: a longer one would be answered 200 here and fail there.
        if ((JsonFields.TooLong(sandboxId, "sandbox id", ColumnLengths.SandboxId)
             ?? JsonFields.TooLong(templateId, "template id", ColumnLengths.SandboxId)
             ?? JsonFields.TooLong(teamId, "team id", ColumnLengths.SandboxId)
             ?? JsonFields.TooLong(buildId, "build id", ColumnLengths.SandboxId)
             ?? JsonFields.TooLong(executionId, "execution id", ColumnLengths.SandboxId)) is { } tooLong)
        {
            return Malformed(tooLong);
        }

        IReadOnlyDictionary<string, string>? metadata = null;
        SandboxExecutionV1? execution = null;
        if (eventData is { } data)
        {
            // sandbox_metadata is snake_case even inside v1's camelCase eventData.
            if (!TryReadMetadata(data, keys.Of("sandbox_metadata", "sandboxMetadata"), out metadata, out error)
                || !TryReadExecution(data, keys, out execution, out error))
            {
                return Malformed(error);
            }
        }

        var resolvedLabel = string.IsNullOrWhiteSpace(label) ? LabelFromType(type!) : label;
        var resolvedType = string.IsNullOrWhiteSpace(type) ? TypeFromLabel(resolvedLabel) : type;
        var eventId = DedupKeys.For(id, rawBody);

        var message = new SandboxLifecycleEventV1
        {
            EventId = eventId,
            SandboxId = sandboxId,
            Label = resolvedLabel,
            EventType = resolvedType,
            OccurredAt = occurredAt!.Value,
            TeamId = JsonFields.NullIfBlank(teamId),
            TemplateId = JsonFields.NullIfBlank(templateId),
            BuildId = JsonFields.NullIfBlank(buildId),
            ExecutionId = JsonFields.NullIfBlank(executionId),
            Metadata = metadata,
            Execution = execution,
            ReceiptId = receiptId,
            SourceFormat = format,
        };
        return NormalizationResult<SandboxLifecycleEventV1>.Ok(message, eventId);
    }

    private static bool TryReadExecution(JsonElement eventData, KeyOrder keys, out SandboxExecutionV1? execution, [NotNullWhen(false)] out string? error)
    {
        execution = null;
        if (!JsonFields.TryReadObject(eventData, ("execution", "execution"), out var found, out error))
        {
            return false;
        }

        if (found is not { } e)
        {
            return true;
        }

        if (!TryReadTimestamp(e, keys.Of("started_at", "startedAt"), required: false, out var startedAt, out error)
            || !JsonFields.TryReadInteger(e, keys.Of("vcpu_count", "vcpuCount"), int.MaxValue, roundFraction: false, out var vcpuCount, out error)
            || !JsonFields.TryReadInteger(e, keys.Of("memory_mb", "memoryMb"), int.MaxValue, roundFraction: false, out var memoryMb, out error)
            || !JsonFields.TryReadInteger(e, keys.Of("execution_time", "executionTime"), long.MaxValue, roundFraction: true, out var executionTimeMs, out error))
        {
            return false;
        }

        execution = new SandboxExecutionV1
        {
            StartedAt = startedAt,
            VcpuCount = (int?)vcpuCount,
            MemoryMb = (int?)memoryMb,
            ExecutionTimeMs = executionTimeMs,
        };
        return true;
    }

    // Metadata is string to string on E2B's side; anything else is kept as its JSON text rather than dropped.
    private static bool TryReadMetadata(JsonElement eventData, (string, string) names, out IReadOnlyDictionary<string, string>? metadata, [NotNullWhen(false)] out string? error)
    {
        metadata = null;
        if (!JsonFields.TryReadObject(eventData, names, out var found, out error))
        {
            return false;
        }

        if (found is { } m)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in m.EnumerateObject())
            {
                values[property.Name] = property.Value.ValueKind == JsonValueKind.String
                    ? property.Value.GetString()!
                    : property.Value.GetRawText();
            }

            metadata = values;
        }

        return true;
    }


    private static bool TryReadTimestamp(JsonElement obj, (string, string) names, bool required, out DateTimeOffset? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!JsonFields.TryFind(obj, names, out var element, out var name) || element.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                error = "missing " + name;
                return false;
            }

            return true;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            error = name + " must be a string";
            return false;
        }

        // System.Text.Json's ISO 8601 parser (any number of fraction digits, as Go's RFC 3339 nano writes them)
        // gives an offset-less time the machine's local offset; E2B means UTC, so such a time is taken as UTC.
        if (!element.TryGetDateTimeOffset(out var parsed) || !element.TryGetDateTime(out var local))
        {
            error = "unparsable " + name;
            return false;
        }

        value = local.Kind == DateTimeKind.Unspecified
            ? new DateTimeOffset(local, TimeSpan.Zero)
            : parsed.ToUniversalTime();
        return true;
    }

    private static bool HasAnyProperty(JsonElement obj, string[] names)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (Array.IndexOf(names, property.Name) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    private static string LabelFromType(string type)
    {
        var lastDot = type.LastIndexOf('.');
        var segment = lastDot >= 0 && lastDot < type.Length - 1 ? type[(lastDot + 1)..] : type;
        return segment switch
        {
            "created" => SandboxLabels.Create,
            "killed" => SandboxLabels.Kill,
            "paused" => SandboxLabels.Pause,
            "resumed" => SandboxLabels.Resume,
            "updated" => SandboxLabels.Update,
            _ => segment,
        };
    }

    private static string TypeFromLabel(string label) => TypePrefix + label switch
    {
        SandboxLabels.Create => "created",
        SandboxLabels.Kill => "killed",
        SandboxLabels.Pause => "paused",
        SandboxLabels.Resume => "resumed",
        SandboxLabels.Update => "updated",
        _ => label,
    };

    private static NormalizationResult<SandboxLifecycleEventV1> Malformed(string error) =>
        NormalizationResult<SandboxLifecycleEventV1>.Malformed(error);

    private readonly record struct KeyOrder(bool SnakeCaseFirst)
    {
        public (string, string) Of(string snakeCase, string camelCase) =>
            SnakeCaseFirst ? (snakeCase, camelCase) : (camelCase, snakeCase);
    }
}
