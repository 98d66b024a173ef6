namespace Pipeline.Messages.Sandboxes;

// The namespace and type name are the wire name (urn:message:Pipeline.Messages.Sandboxes:SandboxLifecycleEventV1).
// Never move or rename them; add a V2 type beside this one instead.

/// <summary>One E2B sandbox lifecycle event, normalized from any of E2B's body formats.</summary>
public sealed record SandboxLifecycleEventV1
{
    /// <summary>The provider's event id, or a hash of the body when the provider sends none.</summary>
    public required string EventId { get; init; }

    public required string SandboxId { get; init; }

    /// <summary>E2B's short label: create, kill, pause, resume, update, or an unknown label passed through.</summary>
    public required string Label { get; init; }

    /// <summary>E2B's full type, e.g. sandbox.lifecycle.killed; derived from the label for the seed format.</summary>
    public required string EventType { get; init; }

    /// <summary>When the provider says the event happened.</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    public string? TeamId { get; init; }
    public string? TemplateId { get; init; }
    public string? BuildId { get; init; }
    public string? ExecutionId { get; init; }
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }
    public SandboxExecutionV1? Execution { get; init; }

    /// <summary>The Ingress receipt this message came from.</summary>
    public required Guid ReceiptId { get; init; }

    /// <summary>Which body format the event arrived in: seed, v1 or v2.</summary>
    public required string SourceFormat { get; init; }
}

/// <summary>Execution figures E2B attaches to pause and kill events.</summary>
public sealed record SandboxExecutionV1
{
    public DateTimeOffset? StartedAt { get; init; }
    public int? VcpuCount { get; init; }
    public int? MemoryMb { get; init; }

    /// <summary>Running time of this execution in milliseconds.</summary>
    public long? ExecutionTimeMs { get; init; }
}
