using Pipeline.Consumers.Credits;

namespace Pipeline.UnitTests.Credits;

public class CreditRulesTests
{
    private const decimal NewApiQuotaPerUsd = 500_000m;
    private const decimal Threshold = 1.0m;

    [Theory]
    [InlineData(500_000L, "1")]
    [InlineData(250_000L, "0.5")]
    [InlineData(1L, "0.000002")]
    [InlineData(0L, "0")]
    [InlineData(1_234_567L, "2.469134")]
    [InlineData(5_000_000_000L, "10000")]
    public void Quota_converts_at_new_apis_rate_of_500000_per_credit(long quota, string expected)
    {
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), CreditRules.ToCredits(quota, NewApiQuotaPerUsd));
    }

    [Fact]
    public void Other_rates_round_half_away_from_zero_to_8_places()
    {
        Assert.Equal(0.33333333m, CreditRules.ToCredits(1, 3m));
        Assert.Equal(0.66666667m, CreditRules.ToCredits(2, 3m));
        Assert.Equal(0.00000001m, CreditRules.ToCredits(1, 200_000_000m)); // 0.000000005 rounds up
        Assert.Equal(1500m, CreditRules.ToCredits(1500, 1m));
    }

    [Fact]
    public void Conversion_refuses_a_negative_quota_or_a_non_positive_rate()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CreditRules.ToCredits(-1, NewApiQuotaPerUsd));
        Assert.Throws<ArgumentOutOfRangeException>(() => CreditRules.ToCredits(1, 0m));
    }

    [Fact]
    public void A_deduction_above_the_threshold_announces_nothing()
    {
        var change = CreditRules.Deduct(10m, 2.5m, Threshold);

        Assert.Equal(10m, change.Before);
        Assert.Equal(-2.5m, change.Amount);
        Assert.Equal(7.5m, change.After);
        Assert.False(change.IsLow || change.IsExhausted || change.BecameLow || change.BecameExhausted);
    }

    [Fact]
    public void By_default_a_usage_beyond_the_balance_takes_it_negative_and_nothing_is_uncovered()
    {
        var change = CreditRules.Deduct(2m, 2.5m, Threshold);

        Assert.Equal((-2.5m, -0.5m, 0m), (change.Amount, change.After, change.Uncovered));
        Assert.True(change.BecameExhausted);
    }

    [Fact]
    public void Without_negative_balances_a_usage_beyond_the_balance_stops_at_zero_and_the_rest_is_uncovered()
    {
        var crossing = CreditRules.Deduct(2m, 2.5m, Threshold, allowNegative: false);
        Assert.Equal((2m, -2m, 0m, 0.5m), (crossing.Before, crossing.Amount, crossing.After, crossing.Uncovered));
        Assert.True(crossing.BecameExhausted && crossing.BecameLow && crossing.IsExhausted);

        // At zero nothing more is taken, the whole usage is uncovered, and exhaustion is not announced again.
        var atZero = CreditRules.Deduct(0m, 0.75m, Threshold, allowNegative: false);
        Assert.Equal((0m, 0m, 0.75m), (atZero.Amount, atZero.After, atZero.Uncovered));
        Assert.False(atZero.BecameExhausted);

        // A balance left negative while negatives were allowed is not taken further below zero.
        var negative = CreditRules.Deduct(-3m, 1m, Threshold, allowNegative: false);
        Assert.Equal((0m, -3m, 1m), (negative.Amount, negative.After, negative.Uncovered));

        var covered = CreditRules.Deduct(5m, 2m, Threshold, allowNegative: false);
        Assert.Equal((-2m, 3m, 0m), (covered.Amount, covered.After, covered.Uncovered));
    }

    [Theory]
    [InlineData("10", "10", true)]
    [InlineData("10", "10.00000001", false)]
    [InlineData("0", "0", true)]
    [InlineData("-1", "0", false)]
    [InlineData("0.5", "0.25", true)]
    public void A_call_is_covered_when_the_balance_pays_for_it_without_going_below_zero(string balance, string credits, bool covered) =>
        Assert.Equal(covered, CreditRules.Covers(
            decimal.Parse(balance, System.Globalization.CultureInfo.InvariantCulture), decimal.Parse(credits, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void Crossing_the_threshold_announces_low_once()
    {
        var crossing = CreditRules.Deduct(1.5m, 0.6m, Threshold);
        Assert.True(crossing.BecameLow);
        Assert.True(crossing.IsLow);
        Assert.False(crossing.BecameExhausted);

        var below = CreditRules.Deduct(crossing.After, 0.1m, Threshold);
        Assert.True(below.IsLow);
        Assert.False(below.BecameLow);
    }

    [Fact]
    public void Landing_exactly_on_the_threshold_counts_as_low()
    {
        var change = CreditRules.Deduct(1.5m, 0.5m, Threshold);

        Assert.Equal(1.0m, change.After);
        Assert.True(change.BecameLow);
    }

    [Fact]
    public void Starting_exactly_on_the_threshold_is_not_a_crossing()
    {
        Assert.False(CreditRules.Deduct(1.0m, 0.5m, Threshold).BecameLow);
    }

    [Fact]
    public void Reaching_zero_exactly_exhausts()
    {
        var change = CreditRules.Deduct(0.4m, 0.4m, Threshold);

        Assert.Equal(0m, change.After);
        Assert.True(change.BecameExhausted);
        Assert.True(change.IsExhausted);
        Assert.False(change.BecameLow); // it was already low
    }

    [Fact]
    public void One_deduction_can_cross_both_marks()
    {
        var change = CreditRules.Deduct(5m, 7m, Threshold);

        Assert.Equal(-2m, change.After);
        Assert.True(change.BecameLow);
        Assert.True(change.BecameExhausted);
    }

    [Fact]
    public void A_negative_balance_keeps_going_down_and_is_never_refused_or_announced_again()
    {
        var change = CreditRules.Deduct(-2m, 3m, Threshold);

        Assert.Equal(-5m, change.After);
        Assert.False(change.BecameLow);
        Assert.False(change.BecameExhausted);
        Assert.True(change.IsExhausted);
    }

    [Fact]
    public void A_new_account_at_zero_is_not_announced_by_its_first_usage()
    {
        // Accounts opened by usage start at 0: already at or below both marks, so nothing is crossed.
        var change = CreditRules.Deduct(0m, 0.1m, Threshold);

        Assert.False(change.BecameLow || change.BecameExhausted);
    }

    [Fact]
    public void A_zero_deduction_changes_nothing()
    {
        var change = CreditRules.Deduct(1.5m, 0m, Threshold);

        Assert.Equal(1.5m, change.After);
        Assert.False(change.BecameLow || change.BecameExhausted);
    }

    [Fact]
    public void A_zero_threshold_announces_low_and_exhausted_together()
    {
        var change = CreditRules.Deduct(0.5m, 0.5m, 0m);

        Assert.True(change.BecameLow);
        Assert.True(change.BecameExhausted);
    }

    [Fact]
    public void A_negative_deduction_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CreditRules.Deduct(1m, -1m, Threshold));
    }

    [Fact]
    public void A_top_up_raises_the_balance_clears_the_flags_and_announces_nothing()
    {
        var change = CreditRules.TopUp(-0.5m, 10.5m, Threshold);

        Assert.Equal(10.5m, change.Amount);
        Assert.Equal(10m, change.After);
        Assert.False(change.IsLow || change.IsExhausted || change.BecameLow || change.BecameExhausted);
    }

    [Fact]
    public void After_a_top_up_the_next_crossing_is_announced_again()
    {
        var first = CreditRules.Deduct(2m, 1.5m, Threshold);
        var toppedUp = CreditRules.TopUp(first.After, 5m, Threshold);
        var second = CreditRules.Deduct(toppedUp.After, 5m, Threshold);

        Assert.True(first.BecameLow);
        Assert.True(second.BecameLow);
    }

    [Fact]
    public void A_run_of_deductions_announces_each_mark_exactly_once()
    {
        var balance = 3m;
        int low = 0, exhausted = 0;
        foreach (var amount in new[] { 0.5m, 0.7m, 0.9m, 0.2m, 0.6m, 0.3m, 1m, 0.01m })
        {
            var change = CreditRules.Deduct(balance, amount, Threshold);
            low += change.BecameLow ? 1 : 0;
            exhausted += change.BecameExhausted ? 1 : 0;
            balance = change.After;
        }

        Assert.Equal(-1.21m, balance);
        Assert.Equal(1, low);
        Assert.Equal(1, exhausted);
    }

    [Theory]
    [InlineData("10.5", null)]
    [InlineData("0.00000001", null)]
    [InlineData("1000000000", null)]
    [InlineData("0", "amount must be greater than 0")]
    [InlineData("-3", "amount must be greater than 0")]
    [InlineData("1000000000.01", "amount must be at most 1000000000")]
    [InlineData("0.000000001", "amount has more than 8 decimal places")]
    public void Top_up_amounts_are_validated(string amount, string? expected)
    {
        Assert.Equal(expected, CreditRules.ValidateTopUp(decimal.Parse(amount, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void Trim_drops_trailing_zeros_only()
    {
        Assert.Equal("10.5", CreditRules.Trim(10.50000000m).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("-0.000002", CreditRules.Trim(-0.00000200m).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("100", CreditRules.Trim(100.00000000m).ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}
