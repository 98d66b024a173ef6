using MassTransit;
using MassTransit.RabbitMqTransport;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace Pipeline.Hosting.Bus;

/// <summary>
/// A message RabbitMQ delivers again although nobody rejected it was held by a consumer that went away: the process
/// crashed, perhaps on this very message, and every other message it held comes back with it. Working on them
/// side by side again would crash again and charge all of them another delivery, until innocent messages reached
/// the delivery limit with the culprit. So a redelivered message moves (publisher confirm, then ack) to
/// <c>&lt;queue&gt;_isolated</c>, whose endpoint takes one message at a time: there a crash charges only the message
/// that caused it, and after <c>Bus:DeliveryLimit</c> deliveries RabbitMQ dead-letters it to <c>&lt;queue&gt;_error</c>.
/// </summary>
public sealed partial class CrashIsolationFilter(string queue, ILogger<CrashIsolationFilter> logger) : IFilter<ReceiveContext>
{
    private readonly string _isolationQueue = PipelineQueues.IsolationQueue(queue);

    public async Task Send(ReceiveContext context, IPipe<ReceiveContext> next)
    {
        if (!context.Redelivered || !context.TryGetPayload(out ChannelContext? channel) ||
            !context.TryGetPayload(out RabbitMqBasicConsumeContext? delivery))
        {
            await next.Send(context);
            return;
        }

        var headers = new Dictionary<string, object?>(delivery.Properties.Headers ?? new Dictionary<string, object?>());
        long deliveries = headers.GetValueOrDefault("x-delivery-count") switch { long l => l, int i => i, _ => 1 };
        headers.Remove("x-delivery-count");
        headers[PipelineQueues.IsolatedHeader] = deliveries;
        var properties = new BasicProperties(delivery.Properties) { Headers = headers };

        await channel.BasicPublishAsync("", _isolationQueue, true, properties, context.Body.GetBytes(), true, context.CancellationToken);
        LogIsolated(logger, delivery.Properties.MessageId, deliveries, _isolationQueue);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("pipelineCrashIsolation");

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Message {MessageId} comes back after {Deliveries} deliveries without an outcome (a consumer died holding it); moved to {IsolationQueue} to be worked on alone")]
    private static partial void LogIsolated(ILogger logger, string? messageId, long deliveries, string isolationQueue);
}
