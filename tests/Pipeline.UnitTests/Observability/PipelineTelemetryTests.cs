using System.Diagnostics;
using Pipeline.Hosting.Telemetry;
using Serilog.Events;

namespace Pipeline.UnitTests.Observability;

/// <summary>How a trace crosses the outbox, and what a log line and a consumer effect record of it.</summary>
public sealed class PipelineTelemetryTests : IDisposable
{
    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = source => source.Name == PipelineTelemetry.SourceName,
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    public PipelineTelemetryTests() => ActivitySource.AddActivityListener(_listener);

    public void Dispose() => _listener.Dispose();

    [Fact]
    public void The_publish_span_continues_the_trace_stored_on_the_row_and_links_the_dispatch_batch()
    {
        using var request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        var stored = PipelineTelemetry.CurrentTraceParent();
        request.Stop();
        Activity.Current = null;
        Assert.Equal($"00-{request.TraceId}-{request.SpanId}-00", stored);

        using var batch = PipelineTelemetry.Source.StartActivity("outbox dispatch")!;
        var messageId = Guid.NewGuid();
        using var publish = PipelineTelemetry.StartOutboxPublish(stored, messageId, "Pipeline.Messages.X", batch)!;

        Assert.Equal(request.TraceId, publish.TraceId);
        Assert.Equal(request.SpanId, publish.ParentSpanId);
        Assert.NotEqual(batch.TraceId, publish.TraceId);
        Assert.Equal(batch.Context, Assert.Single(publish.Links).Context);
        Assert.Equal(ActivityKind.Producer, publish.Kind);
        Assert.Equal(messageId.ToString(), publish.GetTagItem("messaging.message.id"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("not a traceparent")]
    public void A_row_without_a_usable_traceparent_is_published_under_the_batch(string? stored)
    {
        using var batch = PipelineTelemetry.Source.StartActivity("outbox dispatch")!;
        using var publish = PipelineTelemetry.StartOutboxPublish(stored, Guid.NewGuid(), "Pipeline.Messages.X", batch)!;

        Assert.Equal(batch.TraceId, publish.TraceId);
        Assert.Equal(batch.SpanId, publish.ParentSpanId);
        Assert.Empty(publish.Links);
    }

    [Fact]
    public void No_traceparent_is_stored_outside_a_trace()
    {
        Activity.Current = null;
        Assert.Null(PipelineTelemetry.CurrentTraceParent());
    }

    [Fact]
    public void Log_lines_get_the_current_trace_and_span_ids()
    {
        using var activity = new Activity("consume").SetIdFormat(ActivityIdFormat.W3C).Start();
        var line = new LogEvent(DateTimeOffset.UtcNow, LogEventLevel.Information, null, new MessageTemplate([]), []);

        new ActivityEnricher().Enrich(line, null!);

        Assert.Equal(activity.TraceId.ToHexString(), ((ScalarValue)line.Properties["TraceId"]).Value);
        Assert.Equal(activity.SpanId.ToHexString(), ((ScalarValue)line.Properties["SpanId"]).Value);
    }

    [Fact]
    public void A_line_outside_any_trace_gets_no_trace_id()
    {
        Activity.Current = null;
        var line = new LogEvent(DateTimeOffset.UtcNow, LogEventLevel.Information, null, new MessageTemplate([]), []);

        new ActivityEnricher().Enrich(line, null!);

        Assert.False(line.Properties.ContainsKey("TraceId"));
    }

    [Fact]
    public void A_consumer_effect_counts_applied_duplicate_and_failed_attempts()
    {
        const string consumer = "unit.effect";
        double Count(string outcome) => PipelineMetrics.ConsumerMessages.WithLabels(consumer, outcome).Value;
        static void FailingAttempt()
        {
            using var effect = ConsumerEffect.Start(consumer, Guid.NewGuid());
            throw new InvalidOperationException("the database went away");
        }

        var before = (Applied: Count("applied"), Duplicate: Count("duplicate"), Failed: Count("failed"));

        using (var effect = ConsumerEffect.Start(consumer, Guid.NewGuid()))
        {
            effect.Complete(applied: true);
        }

        using (var effect = ConsumerEffect.Start(consumer, Guid.NewGuid()))
        {
            effect.Complete(applied: false);
        }

        Assert.Throws<InvalidOperationException>(FailingAttempt);

        Assert.Equal(before.Applied + 1, Count("applied"));
        Assert.Equal(before.Duplicate + 1, Count("duplicate"));
        Assert.Equal(before.Failed + 1, Count("failed"));
    }

    [Fact]
    public void An_applied_message_records_how_long_after_its_outbox_row_was_written_it_took_effect()
    {
        const string consumer = "unit.lag";
        var lag = PipelineMetrics.ConsumerLag.WithLabels(consumer);
        var (count, sum) = (lag.Count, lag.Sum);
        static void Effect(Guid id, bool applied)
        {
            using var effect = ConsumerEffect.Start(consumer, id);
            effect.Complete(applied);
        }

        Effect(Guid.CreateVersion7(DateTimeOffset.UtcNow.AddSeconds(-3)), applied: true);
        Assert.Equal(count + 1, lag.Count);
        Assert.InRange(lag.Sum - sum, 3.0, 60);

        // A duplicate took effect before; an id that is not version 7 holds no time: neither records a lag.
        Effect(Guid.CreateVersion7(DateTimeOffset.UtcNow.AddSeconds(-3)), applied: false);
        Effect(Guid.NewGuid(), applied: true);
        Assert.Equal(count + 1, lag.Count);
    }
}
