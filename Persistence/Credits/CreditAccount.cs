namespace Pipeline.Persistence.Credits;

/// <summary>One user's credit balance; every change to it is a <see cref="LedgerEntry"/> written in the same transaction.</summary>
public sealed class CreditAccount
{
    /// <summary>The gateway's user id (new-api's numeric id as text, or a fork's string id).</summary>
    public required string UserId { get; set; }

    /// <summary>The name the gateway last reported for this user.</summary>
    public string? Username { get; set; }

    /// <summary>In credits; may go negative (a deduction is never refused) unless <c>Credits:AllowNegative</c> is false.</summary>
    public decimal Balance { get; set; }

    /// <summary>At or below the low-water mark after the last change.</summary>
    public bool IsLow { get; set; }

    /// <summary>At or below zero after the last change.</summary>
    public bool IsExhausted { get; set; }

    /// <summary>When a <c>CreditBalanceLowV1</c> was last enqueued for this account.</summary>
    public DateTime? LowNotifiedAt { get; set; }

    /// <summary>When a <c>CreditsExhaustedV1</c> was last enqueued for this account.</summary>
    public DateTime? ExhaustedNotifiedAt { get; set; }

    /// <summary>The sequence number of the account's newest ledger entry (entries are numbered 1, 2, …).</summary>
    public long LastSequence { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    public DateTime? LastUsageAt { get; set; }

    /// <summary>Optimistic concurrency: two deductions for one account never overwrite each other's balance.</summary>
    public int Version { get; set; }
}
