using System.Diagnostics;

namespace Pipeline.Hosting.Telemetry;

/// <summary>
/// One message's effect in a consumer: a "Pipeline" span (a child of MassTransit's consume span, so of the webhook's
/// trace), its duration and its outcome. Ends as <c>failed</c> unless <see cref="Complete"/> was called, so an
/// attempt that throws (and will be retried or dead-lettered) is counted too.
/// </summary>
public sealed class ConsumerEffect : IDisposable
{
    private readonly string _consumer;
    private readonly Activity? _activity;
    private readonly long _started = Stopwatch.GetTimestamp();
    private string _outcome = "failed";

    private ConsumerEffect(string consumer, Guid messageId)
    {
        _consumer = consumer;
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
}
