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

    public static NormalizationResult<SandboxLifecycleEventV1> Normalize(ReadOnlySpan<byte> rawBody, Guid receiptId)
    {
        if (!WireJson.TryRead(rawBody, E2bWireContext.Default.E2bWebhookBody, out var body, out var error))
        {
            return Malformed(error);
        }

        // E2B has sent "version":"v2" with camelCase keys too, so the version alone also means v2.
        var snakeCase = string.Equals(body.Version, V2Format, StringComparison.OrdinalIgnoreCase) || body.HasSnakeCaseFields;
        var format = snakeCase ? V2Format
            : body.Id is not null || body.Type is not null || body.Version is not null ? V1Format
            : SeedFormat;

        // Each field is taken under the format's own casing first, then under the other one.
        T? Pick<T>(T? snake, T? camel) => snakeCase ? snake ?? camel : camel ?? snake;
        var label = Pick(body.EventLabelSnake, body.EventLabel);
        var sandboxId = Pick(body.SandboxIdSnake, body.SandboxId);
        var executionId = Pick(body.SandboxExecutionIdSnake, body.SandboxExecutionId);
        var templateId = Pick(body.SandboxTemplateIdSnake, body.SandboxTemplateId);
        var buildId = Pick(body.SandboxBuildIdSnake, body.SandboxBuildId);
        var teamId = Pick(body.SandboxTeamIdSnake, body.SandboxTeamId);
        var data = Pick(body.EventDataSnake, body.EventData);

        if (body.Timestamp is not { } occurredAt)
        {
            return Malformed("missing timestamp");
        }

        if (string.IsNullOrWhiteSpace(sandboxId))
        {
            return Malformed("missing sandbox id");
        }

        if (string.IsNullOrWhiteSpace(label) && string.IsNullOrWhiteSpace(body.Type))
        {
            return Malformed("missing event label and type");
        }

        // The Sandboxes service stores these ids: a longer one would be answered 200 here and fail there.
        if ((WireJson.TooLong(sandboxId, "sandbox id", ColumnLengths.SandboxId)
             ?? WireJson.TooLong(templateId, "template id", ColumnLengths.SandboxId)
             ?? WireJson.TooLong(teamId, "team id", ColumnLengths.SandboxId)
             ?? WireJson.TooLong(buildId, "build id", ColumnLengths.SandboxId)
             ?? WireJson.TooLong(executionId, "execution id", ColumnLengths.SandboxId)) is { } tooLong)
        {
            return Malformed(tooLong);
        }

        var resolvedLabel = string.IsNullOrWhiteSpace(label) ? LabelFromType(body.Type!) : label;
        var resolvedType = string.IsNullOrWhiteSpace(body.Type) ? TypeFromLabel(resolvedLabel) : body.Type;
        var eventId = DedupKeys.For(body.Id, rawBody);
        var message = new SandboxLifecycleEventV1
        {
            EventId = eventId,
            SandboxId = sandboxId,
            Label = resolvedLabel,
            EventType = resolvedType,
            OccurredAt = occurredAt,
            TeamId = WireJson.NullIfBlank(teamId),
            TemplateId = WireJson.NullIfBlank(templateId),
            BuildId = WireJson.NullIfBlank(buildId),
            ExecutionId = WireJson.NullIfBlank(executionId),
            Metadata = data is null ? null : Pick(data.SandboxMetadataSnake, data.SandboxMetadata),
            Execution = data?.Execution is { } e
                ? new SandboxExecutionV1
                {
                    StartedAt = Pick(e.StartedAtSnake, e.StartedAt),
                    VcpuCount = Pick(e.VcpuCountSnake, e.VcpuCount),
                    MemoryMb = Pick(e.MemoryMbSnake, e.MemoryMb),
                    ExecutionTimeMs = Pick(e.ExecutionTimeSnake, e.ExecutionTime),
                }
                : null,
            ReceiptId = receiptId,
            SourceFormat = format,
        };
        return NormalizationResult<SandboxLifecycleEventV1>.Ok(message, eventId);
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
}
