namespace Pipeline.Persistence.Sandboxes;

/// <summary>One E2B sandbox as the lifecycle events have described it so far.</summary>
public sealed class Sandbox
{
    public required string SandboxId { get; set; }

    /// <summary>running, paused or killed.</summary>
    public required string State { get; set; }

    public string? TemplateId { get; set; }
    public string? TeamId { get; set; }
    public string? BuildId { get; set; }
    public string? ExecutionId { get; set; }

    /// <summary>Sandbox metadata as a JSON object.</summary>
    public string? Metadata { get; set; }

    public DateTime? CreatedAt { get; set; }

    /// <summary>When the event that set <see cref="State"/> happened; older events never change the state.</summary>
    public DateTime StateChangedAt { get; set; }

    public DateTime LastEventAt { get; set; }

    /// <summary>Start of the current running period, when known.</summary>
    public DateTime? RunningSince { get; set; }

    public DateTime? PausedAt { get; set; }
    public DateTime? KilledAt { get; set; }
    public double BilledRunningSeconds { get; set; }
    public int EventCount { get; set; }

    /// <summary>
    /// The state-changing events seen so far, as JSON. The state and billed seconds are replayed from it in time
    /// order, so they do not depend on the order in which events arrived.
    /// </summary>
    public string? History { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>
    /// When the stale check found it running or paused with no lifecycle event for <c>Sandboxes:StaleAfter</c>; null
    /// while it is not stale. A newer event or its kill clears it.
    /// </summary>
    public DateTime? StaleAt { get; set; }

    /// <summary>Optimistic concurrency: two events for one sandbox never overwrite each other.</summary>
    public int Version { get; set; }
}
