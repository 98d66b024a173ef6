namespace Pipeline.Consumers.Credits;

/// <summary>A balance before and after one ledger entry, with the transitions that entry caused.</summary>
/// <param name="Uncovered">Credits of a usage the balance did not pay for because it may not go below zero.</param>
public readonly record struct BalanceChange(
    decimal Before, decimal Amount, decimal After, bool IsLow, bool IsExhausted, bool BecameLow, bool BecameExhausted, decimal Uncovered = 0);

/// <summary>
/// The credit arithmetic, with no I/O: quota → credits, deductions and top-ups, and the two transitions that are
/// announced. A deduction is never refused (the call already happened): the balance goes negative, or, where it may
/// not, stops at zero and the rest is recorded as uncovered. A transition is announced only by the deduction that
/// crosses it, so each crossing is announced once.
/// </summary>
public static class CreditRules
{
    /// <summary>Credits are kept to 8 decimal places (the database columns' scale).</summary>
    public const int Scale = 8;

    /// <summary>The largest single top-up accepted, in credits.</summary>
    public const decimal MaxTopUp = 1_000_000_000m;

    /// <summary>Quota units to credits, rounded half away from zero to <see cref="Scale"/> places.</summary>
    public static decimal ToCredits(long quota, decimal quotaPerCredit)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(quota);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(quotaPerCredit);
        return decimal.Round(quota / quotaPerCredit, Scale, MidpointRounding.AwayFromZero);
    }

    /// <param name="credits">The amount to take, 0 or more.</param>
    /// <param name="allowNegative">false: take at most what the balance holds (nothing from a balance at or below zero).</param>
    public static BalanceChange Deduct(decimal balance, decimal credits, decimal lowThreshold, bool allowNegative = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(credits);
        var taken = allowNegative ? credits : Math.Min(credits, Math.Max(balance, 0));
        var after = balance - taken;
        return new BalanceChange(
            balance, -taken, after,
            IsLow: after <= lowThreshold,
            IsExhausted: after <= 0,
            BecameLow: balance > lowThreshold && after <= lowThreshold,
            BecameExhausted: balance > 0 && after <= 0,
            Uncovered: credits - taken);
    }

    /// <summary>Whether a balance pays for a call of <paramref name="credits"/> without going below zero.</summary>
    public static bool Covers(decimal balance, decimal credits) => credits <= balance;

    /// <param name="credits">The amount to add, greater than 0 (see <see cref="ValidateTopUp"/>).</param>
    public static BalanceChange TopUp(decimal balance, decimal credits, decimal lowThreshold)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(credits);
        var after = balance + credits;
        return new BalanceChange(balance, credits, after, after <= lowThreshold, after <= 0, BecameLow: false, BecameExhausted: false);
    }

    /// <returns>null when the amount can be credited, else why not.</returns>
    public static string? ValidateTopUp(decimal amount) =>
        amount <= 0 ? "amount must be greater than 0"
        : amount > MaxTopUp ? $"amount must be at most {MaxTopUp:0}"
        : decimal.Round(amount, Scale) != amount ? $"amount has more than {Scale} decimal places"
        : null;

    /// <summary>The same value without trailing zeros (10.50000000 → 10.5), for answers people read.</summary>
    public static decimal Trim(decimal value) => value / 1.000000000000000000000000000000000m;
}
