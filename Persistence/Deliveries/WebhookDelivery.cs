namespace Pipeline.Persistence.Deliveries;

public static class DeliveryStatuses
{
    /// <summary>Waiting for its next attempt (or being sent: then it holds a lease).</summary>
    public const string Pending = "pending";

    public const string Delivered = "delivered";

    /// <summary>Every scheduled attempt failed, or the receiver answered 410 Gone; can be resent.</summary>
    public const string Failed = "failed";

    /// <summary>Matched while the endpoint was disabled: kept so that recover can deliver it later.</summary>
    public const string Skipped = "skipped";

    public static readonly IReadOnlyList<string> All = [Pending, Delivered, Failed, Skipped];
}

/// <summary>
/// One event for one endpoint. Sent by whichever replica claims it (<see cref="LockedBy"/> until
/// <see cref="LockedUntil"/>); each try is a <see cref="DeliveryAttempt"/> recorded in the same transaction that
/// schedules the next one and releases the claim.
/// </summary>
public sealed class WebhookDelivery
{
    public Guid Id { get; set; }
    public Guid EndpointId { get; set; }
    public required string EventId { get; set; }
    public required string EventType { get; set; }

    /// <summary>One of <see cref="DeliveryStatuses"/>.</summary>
    public required string Status { get; set; }

    /// <summary>Attempts made and recorded so far.</summary>
    public int Attempts { get; set; }

    /// <summary>
    /// <see cref="Attempts"/> when the current round of the retry schedule began: 0, or the count at the last resend
    /// or recover, which start the schedule again.
    /// </summary>
    public int ScheduleStart { get; set; }

    /// <summary>When it is due (pending only); null once delivered, failed or skipped.</summary>
    public DateTime? NextAttemptAt { get; set; }

    /// <summary>The claim of the replica sending it; another replica may take it over once the lease has run out.</summary>
    public string? LockedBy { get; set; }

    public DateTime? LockedUntil { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime? LastAttemptAt { get; set; }
    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }
    public DateTime? DeliveredAt { get; set; }
}
