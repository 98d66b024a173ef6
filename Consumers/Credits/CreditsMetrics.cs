using Prometheus;

namespace Pipeline.Consumers.Credits;

/// <summary>The Credits service's Prometheus series.</summary>
public static class CreditsMetrics
{
    public static readonly Counter Usage = Metrics.CreateCounter(
        "pipeline_credits_usage_total", "Usage messages handled, by outcome (processed, duplicate, redelivered, failed).", "outcome");

    public static readonly Counter DeductedCredits = Metrics.CreateCounter(
        "pipeline_credits_deducted_total", "Credits deducted from balances.");

    public static readonly Counter Conflicts = Metrics.CreateCounter(
        "pipeline_credits_conflicts_total", "Deductions retried because another change to the account or the ledger won a race.");

    public static readonly Counter TopUps = Metrics.CreateCounter(
        "pipeline_credits_topups_total", "Top-up requests, by outcome (created, repeat, conflict, rejected, unauthorized).", "outcome");

    public static readonly Counter Uncovered = Metrics.CreateCounter(
        "pipeline_credits_uncovered_total", "Usages the balance did not cover in full, recorded with the balance at zero (Credits:AllowNegative=false).");

    public static readonly Counter UncoveredCredits = Metrics.CreateCounter(
        "pipeline_credits_uncovered_credits_total", "Credits of usage not deducted because the balance may not go below zero.");

    public static readonly Counter Alerts = Metrics.CreateCounter(
        "pipeline_credits_alerts_total", "Balance alerts enqueued, by kind (low, exhausted).", "kind");
}
