using Prometheus;

namespace Pipeline.Ingress;

/// <summary>Ingress's Prometheus series. Reasons are short fixed strings, never request data.</summary>
public static class IngressMetrics
{
    public static readonly Counter Received = Metrics.CreateCounter(
        "pipeline_webhooks_received_total", "Webhook requests received.", "provider");

    public static readonly Counter Accepted = Metrics.CreateCounter(
        "pipeline_webhooks_accepted_total", "Webhooks answered 2xx, new or duplicate.", "provider", "outcome");

    public static readonly Counter Rejected = Metrics.CreateCounter(
        "pipeline_webhooks_rejected_total", "Webhooks refused, by status and reason.", "provider", "status", "reason");

    public static readonly Histogram AcceptDuration = Metrics.CreateHistogram(
        "pipeline_webhook_accept_seconds", "Time from request to committed receipt.",
        new HistogramConfiguration
        {
            LabelNames = ["provider"],
            Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14),
        });
}
