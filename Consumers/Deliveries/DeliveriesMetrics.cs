using Prometheus;

namespace Pipeline.Consumers.Deliveries;

/// <summary>Outbound webhook series (the seed's names). Labels are fixed sets: no endpoint or event ids.</summary>
public static class DeliveriesMetrics
{
    public static readonly Counter Deliveries = Metrics.CreateCounter(
        "webhook_deliveries_total", "Deliveries that reached a state: created (pending), delivered, failed.", "status");

    public static readonly Counter Attempts = Metrics.CreateCounter(
        "webhook_delivery_attempts_total", "HTTP attempts of deliveries, by outcome (success, http_error, timeout, refused, connection_error).", "outcome");

    public static readonly Histogram Duration = Metrics.CreateHistogram(
        "webhook_delivery_duration_seconds", "Time of one attempt, from sending the request to reading the (capped) response.",
        new HistogramConfiguration { Buckets = Histogram.ExponentialBuckets(0.001, 2, 15) });
}
