namespace Pipeline.Messages.Sandboxes;

/// <summary>
/// Published by the Sandboxes service when a running or paused sandbox has had no lifecycle event for longer than
/// <c>Sandboxes:StaleAfter</c>: a zombie that may still be billed. Once per silence: a later event makes it fresh again.
/// </summary>
public sealed record SandboxStaleV1
{
    public required string SandboxId { get; init; }
    public string? TeamId { get; init; }
    public string? TemplateId { get; init; }

    /// <summary>running or paused.</summary>
    public required string State { get; init; }

    /// <summary>When its last lifecycle event happened.</summary>
    public required DateTimeOffset LastEventAt { get; init; }

    /// <summary><c>Sandboxes:StaleAfter</c> when it was marked, in seconds.</summary>
    public required double StaleAfterSeconds { get; init; }

    /// <summary>When it was marked stale.</summary>
    public required DateTimeOffset At { get; init; }
}
