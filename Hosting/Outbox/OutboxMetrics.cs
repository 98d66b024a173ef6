using Prometheus;

namespace Pipeline.Hosting.Outbox;

/// <summary>Outbox series, labelled by the outbox table's context (IngressDbContext, CreditsDbContext, …).</summary>
public static class OutboxMetrics
{
    public static readonly Gauge Pending = Metrics.CreateGauge(
        "pipeline_outbox_pending", "Outbox rows not yet published.", "context");

    public static readonly Gauge OldestAge = Metrics.CreateGauge(
        "pipeline_outbox_oldest_pending_age_seconds", "Age of the oldest unpublished outbox row.", "context");

    public static readonly Gauge InFlight = Metrics.CreateGauge(
        "pipeline_outbox_in_flight", "Outbox rows being published: sent to the broker and not yet confirmed or failed.", "context");

    public static readonly Counter Published = Metrics.CreateCounter(
        "pipeline_outbox_published_total", "Outbox rows published and confirmed by the broker.", "context");

    public static readonly Counter PublishFailures = Metrics.CreateCounter(
        "pipeline_outbox_publish_failures_total", "Publish attempts that failed and will be retried.", "context");

    public static readonly Histogram PublishDuration = Metrics.CreateHistogram(
        "pipeline_outbox_publish_seconds", "Time from publish to broker confirm, per message.",
        new HistogramConfiguration { LabelNames = ["context"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });

    public static readonly Histogram DispatchDelay = Metrics.CreateHistogram(
        "pipeline_outbox_dispatch_delay_seconds", "Time from the row's commit to its confirmed publish.",
        new HistogramConfiguration { LabelNames = ["context"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 16) });
}
