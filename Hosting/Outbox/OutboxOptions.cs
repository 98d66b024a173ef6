using System.ComponentModel.DataAnnotations;

namespace Pipeline.Hosting.Outbox;

/// <summary>The <c>Outbox</c> section: how the dispatcher claims and publishes rows.</summary>
public sealed class OutboxOptions : IValidatableObject
{
    public const string Section = "Outbox";

    [Range(1, 5000)]
    public int BatchSize { get; set; } = 200;

    /// <summary>
    /// Publish rounds (of up to <see cref="BatchSize"/> rows each) in flight at once: a commit's rows are published while
    /// earlier rounds still wait for the broker's confirms. 1 publishes one round at a time.
    /// </summary>
    [Range(1, 16)]
    public int PublishRounds { get; set; } = 4;

    /// <summary>How long a claimed row stays with one dispatcher before another replica may take it over.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The fallback wake-up when no commit has signalled new rows (other replicas, restarts).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>A publish not confirmed within this time counts as failed and is retried later.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The longest wait before retrying a row whose publish failed (the wait doubles up to this).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a published row is kept. Zero (the default): deleted once the broker confirmed it (within a quarter second), which costs
    /// PostgreSQL a small delete instead of a new row version with its index entries (about 64 bytes of WAL instead of a
    /// kilobyte). Longer: marked sent and deleted after this long by the retention purge (<c>Retention:*</c>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan RetainSent { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// How long rows the broker confirmed wait to be deleted (or marked sent) together with those confirmed after them:
    /// one statement and one commit for every batch published meanwhile. They stay leased until then, so it must be
    /// shorter than <see cref="Lease"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan CompleteDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// On RabbitMQ, a domain contract (a sandbox event, usage, a LiveKit event, a credit alert) is published only once
    /// the queue of the service that consumes it exists, and waits in the outbox until then (the mandatory flag alone
    /// cannot tell while the Deliveries service's queue takes every contract). Turn off only for a deployment that
    /// leaves a consumer service out on purpose: its contracts then reach only whoever else subscribes.
    /// </summary>
    public bool WaitForConsumerQueues { get; set; } = true;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (CompleteDelay >= Lease)
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(CompleteDelay)} ({CompleteDelay}) must be shorter than {Section}:{nameof(Lease)} ({Lease}): published rows " +
                "wait that long under their lease, and a lapsed lease has them published again.", [nameof(CompleteDelay), nameof(Lease)]);
        }
    }
}
