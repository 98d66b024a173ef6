namespace Pipeline.Messages.Credits;

/// <summary>Published when an account's balance falls to or below the configured low-water mark.</summary>
public sealed record CreditBalanceLowV1
{
    public required string UserId { get; init; }
    public required decimal Balance { get; init; }
    public required decimal Threshold { get; init; }
    public required DateTimeOffset At { get; init; }
}

/// <summary>Published when an account's balance reaches zero or goes negative (the deduction is still recorded).</summary>
public sealed record CreditsExhaustedV1
{
    public required string UserId { get; init; }
    public required decimal Balance { get; init; }
    public required DateTimeOffset At { get; init; }
}

/// <summary>Published when an operator's top-up was credited (once per top-up reference).</summary>
public sealed record CreditsToppedUpV1
{
    public required string UserId { get; init; }
    public required decimal Amount { get; init; }

    /// <summary>The balance after the top-up.</summary>
    public required decimal Balance { get; init; }

    /// <summary>The operator's reference, which makes a repeated top-up apply once.</summary>
    public required string Reference { get; init; }

    public required DateTimeOffset At { get; init; }
}
