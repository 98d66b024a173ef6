using System.Diagnostics;

namespace Pipeline.Hosting.Telemetry;

/// <summary>
/// One message's effect in a consumer: a "Pipeline" span (a child of MassTransit's consume span, so of the webhook's
/// trace), its duration and its outcome. Ends as <c>failed</c> unless <see cref="Complete"/> was called, so an
/// attempt that throws (and will be retried or dead-lettered) is counted too. An applied message whose id is a
/// version-7 Guid (every outbox row's) also records how long after its row was written it took effect
/// (<see cref="PipelineMetrics.ConsumerLag"/>; across machines, as exact as their clocks agree).
/// </summary>
public sealed class ConsumerEffect : IDisposable
{
    private readonly string _consumer;
    private readonly Guid _messageId;
    private readonly Activity? _activity;
    private readonly long _started = Stopwatch.GetTimestamp();
    private string _outcome = "failed";

    private ConsumerEffect(string consumer, Guid messageId)
    {
        _consumer = consumer;
        _messageId = messageId;
        _activity = PipelineTelemetry.Source.StartActivity(consumer + " effect", ActivityKind.Internal);
        _activity?.SetTag("pipeline.consumer", consumer);
        _activity?.SetTag("messaging.message.id", messageId.ToString());
    }

    public static ConsumerEffect Start(string consumer, Guid messageId) => new(consumer, messageId);

    /// <param name="applied">true when the effect was applied now; false when the inbox had seen the message.</param>
    public void Complete(bool applied) => _outcome = applied ? "applied" : "duplicate";

    public void Dispose()
    {
        PipelineMetrics.ConsumerMessages.WithLabels(_consumer, _outcome).Inc();
        PipelineMetrics.ConsumerEffectDuration.WithLabels(_consumer).Observe(Stopwatch.GetElapsedTime(_started).TotalSeconds);
        if (_outcome == "applied" && WrittenAt(_messageId) is { } written)
        {
            PipelineMetrics.ConsumerLag.WithLabels(_consumer).Observe(Math.Max(0, (DateTimeOffset.UtcNow - written).TotalSeconds));
        }

        if (_activity is not null)
        {
            _activity.SetTag("pipeline.outcome", _outcome);
            if (_outcome == "failed")
            {
                _activity.SetStatus(ActivityStatusCode.Error);
            }

            _activity.Dispose();
        }
    }

    /// <summary>The time a version-7 Guid was made (its first 48 bits: Unix milliseconds), else null.</summary>
    private static DateTimeOffset? WrittenAt(Guid id)
    {
        if (id.Version != 7)
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        var millis = ((long)bytes[0] << 40) | ((long)bytes[1] << 32) | ((long)bytes[2] << 24) | ((long)bytes[3] << 16) | ((long)bytes[4] << 8) | bytes[5];
        return DateTimeOffset.FromUnixTimeMilliseconds(millis);
    }
}
