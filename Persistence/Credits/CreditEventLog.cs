namespace Pipeline.Persistence.Credits;

public static class CreditEventStatuses
{
    public const string Processed = "processed";

    /// <summary>Another message with the same request id had already been deducted: acknowledged without effect.</summary>
    public const string Duplicate = "duplicate";

    /// <summary>Given up after the retries; the message is in credits-usage_error until replayed.</summary>
    public const string Failed = "failed";
}

/// <summary>
/// What happened to each usage message (the seed's <c>webhook_logs</c>: event id, status, error, processed time), so
/// "why was this user not charged?" has an answer without reading the broker.
/// </summary>
public sealed class CreditEventLog
{
    /// <summary>The MassTransit message id (the Ingress outbox row id).</summary>
    public Guid MessageId { get; set; }

    /// <summary>The gateway's request id.</summary>
    public required string EventId { get; set; }

    public string? UserId { get; set; }
    public required string Status { get; set; }
    public string? Error { get; set; }
    public Guid? ReceiptId { get; set; }

    /// <summary>The ledger entry the message produced (processed) or found (duplicate).</summary>
    public Guid? LedgerEntryId { get; set; }

    public DateTime ProcessedAt { get; set; }
}
