using Pipeline.Persistence.Deliveries;
using Prometheus;

namespace Pipeline.Consumers.Deliveries;

/// <summary>Outbound webhook series (the seed's names). Labels are fixed sets: no endpoint or event ids.</summary>
public static class DeliveriesMetrics
{
    public static readonly Counter Deliveries = Metrics.CreateCounter(
        "webhook_deliveries_total",
        "Deliveries that reached a state: pending (created, resent or recovered), skipped (endpoint disabled), delivered, failed.",
        "status");

    public static readonly Counter Attempts = Metrics.CreateCounter(
        "webhook_delivery_attempts_total", "HTTP attempts of deliveries, by outcome (success, http_error, timeout, refused, connection_error, internal_error).", "outcome");

    public static readonly Histogram Duration = Metrics.CreateHistogram(
        "webhook_delivery_duration_seconds", "Time of one attempt, from sending the request to reading the (capped) response.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 15) });

    // Read from the database by every replica (the same values): aggregate with max(), not sum().
    public static readonly Gauge QueueSize = Metrics.CreateGauge(
        "webhook_queue_size", "Pending deliveries (due now or waiting for a retry), from the database.",
        new GaugeConfiguration { SuppressInitialValue = true });

    public static readonly Gauge EndpointsActive = Metrics.CreateGauge(
        "webhook_endpoints_active", "Enabled endpoints, from the database.", new GaugeConfiguration { SuppressInitialValue = true });

    public static readonly Gauge EndpointsFailing = Metrics.CreateGauge(
        "webhook_endpoints_failing", "Enabled endpoints whose every attempt has failed since their last success.",
        new GaugeConfiguration { SuppressInitialValue = true });

    public static readonly Gauge Ledger = Metrics.CreateGauge(
        "webhook_ledger_deliveries", "The delivery ledger over all endpoints: matched, and matched split into delivered, pending, failed, skipped.",
        new GaugeConfiguration { LabelNames = ["state"], SuppressInitialValue = true });

    public static readonly Gauge UnbalancedEndpoints = Metrics.CreateGauge(
        "webhook_ledger_unbalanced_endpoints", "Endpoints whose ledger does not balance (matched != delivered + pending + failed + skipped).",
        new GaugeConfiguration { SuppressInitialValue = true });

    public static void Created(IEnumerable<WebhookDelivery> deliveries)
    {
        foreach (var group in deliveries.GroupBy(d => d.Status))
        {
            Deliveries.WithLabels(group.Key).Inc(group.Count());
        }
    }
}
