using System.Diagnostics;

namespace Pipeline.Hosting.Telemetry;

/// <summary>
/// The project's own spans (ActivitySource "Pipeline"): webhook verify/normalize/accept, outbox dispatch and
/// publish, consumer effects. Together with ASP.NET Core's and MassTransit's spans they make one trace from the
/// HTTP request to the consumer's effect.
/// </summary>
public static class PipelineTelemetry
{
    public const string SourceName = "Pipeline";

    /// <summary>MassTransit's ActivitySource (and Meter) name.</summary>
    public const string MassTransitSourceName = "MassTransit";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The W3C traceparent of the current span, to be stored with work that continues later (an outbox row).</summary>
    public static string? CurrentTraceParent() =>
        Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>
    /// The span of one outbox row's publish: a child of the request that wrote the row (so MassTransit carries that
    /// trace on to the consumer), linked to the dispatcher's batch span. A row without a stored parent (written
    /// outside any trace) becomes a child of the batch.
    /// </summary>
    public static Activity? StartOutboxPublish(string? traceParent, Guid messageId, string messageType, Activity? batch)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var parent = traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var stored)
            ? stored
            : batch?.Context ?? default;
        var links = batch is not null && parent != batch.Context ? new[] { new ActivityLink(batch.Context) } : null;
        return Source.StartActivity("outbox publish", ActivityKind.Producer, parent,
            [new("messaging.message.id", messageId.ToString()), new("pipeline.message_type", messageType)], links);
    }
}
