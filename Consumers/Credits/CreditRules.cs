namespace Pipeline.Consumers.Credits;

/// <summary>A balance before and after one ledger entry, with the transitions that entry caused.</summary>
public readonly record struct BalanceChange(decimal Before, decimal Amount, decimal After, bool IsLow, bool IsExhausted, bool BecameLow, bool BecameExhausted);

/// <summary>
/// The credit arithmetic, with no I/O: quota → credits, deductions and top-ups, and the two transitions that are
/// announced. A deduction is never refused (the balance may go negative); a transition is announced only by the
/// deduction that crosses it, so each crossing is announced once.
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
    public static BalanceChange Deduct(decimal balance, decimal credits, decimal lowThreshold)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(credits);
        var after = balance - credits;
        return new BalanceChange(
            balance, -credits, after,
            IsLow: after <= lowThreshold,
            IsExhausted: after <= 0,
            BecameLow: balance > lowThreshold && after <= lowThreshold,
            BecameExhausted: balance > 0 && after <= 0);
    }

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
