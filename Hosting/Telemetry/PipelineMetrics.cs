using Prometheus;

namespace Pipeline.Hosting.Telemetry;

/// <summary>
/// Series shared by several services, or set by Hosting on a service's behalf. Label values are fixed sets
/// (outcomes, states) or names the operator controls (queues, consumers), never request data.
/// </summary>
public static class PipelineMetrics
{
    public static readonly Gauge DeadLetters = Metrics.CreateGauge(
        "pipeline_dead_letters", "Messages in each dead-letter (_error) queue, from the RabbitMQ management API.", "queue");

    public static readonly Counter DeadLetterRefreshFailures = Metrics.CreateCounter(
        "pipeline_dead_letters_refresh_failures_total", "Dead-letter gauge refreshes that could not reach the management API.");

    public static readonly Counter ConsumerMessages = Metrics.CreateCounter(
        "pipeline_consumer_messages_total",
        "Messages handled by a consumer's effect: applied, duplicate (recognised by the inbox) or failed (each failed attempt).",
        "consumer", "outcome");

    public static readonly Histogram ConsumerEffectDuration = Metrics.CreateHistogram(
        "pipeline_consumer_effect_seconds", "Time to apply one message's effect, inbox included.",
        new HistogramConfiguration { LabelNames = ["consumer"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });

    public static readonly Histogram ConsumerLag = Metrics.CreateHistogram(
        "pipeline_consumer_lag_seconds",
        "Time from the message's outbox row being written (its id, a version-7 Guid, holds the time) to its effect being applied and committed: the accept's commit, the dispatch, the broker, and any retries.",
        new HistogramConfiguration { LabelNames = ["consumer"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 18) });

    public static readonly Gauge ActiveSandboxes = Metrics.CreateGauge(
        "pipeline_sandboxes_active", "Sandboxes not killed, by state (running, paused), from the Sandboxes database.", "state");

    // Without labels a gauge would show 0 in every service from start-up; these appear only where Rooms sets them.
    public static readonly Gauge ActiveRooms = Metrics.CreateGauge(
        "pipeline_rooms_active", "Rooms started and not finished, from the Rooms database.",
        new GaugeConfiguration { SuppressInitialValue = true });

    public static readonly Gauge ActiveParticipants = Metrics.CreateGauge(
        "pipeline_room_participants_active", "Participants currently in active rooms, from the Rooms database.",
        new GaugeConfiguration { SuppressInitialValue = true });
}
