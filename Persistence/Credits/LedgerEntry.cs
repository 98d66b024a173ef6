namespace Pipeline.Persistence.Credits;

public static class LedgerKinds
{
    public const string Deduction = "deduction";
    public const string TopUp = "top-up";
}

/// <summary>
/// One change to a balance. Append-only: entries are never updated or deleted. (Kind, Reference) is unique, so a
/// request id is deducted at most once and a top-up reference is credited at most once, whatever reaches the database.
/// </summary>
public sealed class LedgerEntry
{
    public Guid Id { get; set; }
    public required string UserId { get; set; }

    /// <summary>1, 2, … per account, in the order the entries were applied.</summary>
    public long Sequence { get; set; }

    /// <summary><see cref="LedgerKinds.Deduction"/> or <see cref="LedgerKinds.TopUp"/>.</summary>
    public required string Kind { get; set; }

    /// <summary>The change to the balance in credits: negative for a deduction, positive for a top-up.</summary>
    public decimal Amount { get; set; }

    public decimal BalanceAfter { get; set; }

    /// <summary>
    /// Credits of a deduction's usage that the balance did not pay for (<c>Credits:AllowNegative=false</c> keeps it at
    /// zero): the usage is recorded in full, this part flagged; null when the usage was covered.
    /// </summary>
    public decimal? Uncovered { get; set; }

    /// <summary>The gateway's request id for a deduction, the operator's reference for a top-up.</summary>
    public required string Reference { get; set; }

    public string? Model { get; set; }

    /// <summary>The gateway's quota units behind a deduction.</summary>
    public long? Quota { get; set; }

    /// <summary>The message that caused the entry (deductions).</summary>
    public Guid? MessageId { get; set; }

    /// <summary>When the usage happened at the gateway (deductions).</summary>
    public DateTime? OccurredAt { get; set; }

    public DateTime CreatedAt { get; set; }
}
