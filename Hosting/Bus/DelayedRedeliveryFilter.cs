using MassTransit;
using MassTransit.RabbitMqTransport;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace Pipeline.Hosting.Bus;

/// <summary>
/// First in the error pipe, so it sees a message only after its in-memory retries: while the schedule has a delay
/// left and the fault is not permanent, the message (same body, properties and MessageId, plus its redelivery
/// count) goes to the delay queue with a publisher confirm, and only then is the original acknowledged. A crash in
/// between leaves at worst a duplicate, which the consumer's inbox recognises. Otherwise MassTransit's own error
/// transport moves it to <c>&lt;queue&gt;_error</c>.
/// </summary>
public sealed partial class DelayedRedeliveryFilter(string queue, RedeliverySchedule schedule, ILogger<DelayedRedeliveryFilter> logger)
    : IFilter<ExceptionReceiveContext>
{
    public async Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next)
    {
        if (!context.TryGetPayload(out ChannelContext? channel) || !context.TryGetPayload(out RabbitMqBasicConsumeContext? delivery))
        {
            await next.Send(context);
            return;
        }

        var redeliveries = RedeliverySchedule.CountOf(delivery.Properties.Headers);
        if (schedule.NextDelay(context.Exception, redeliveries) is not { } delay)
        {
            LogDeadLettered(logger, delivery.Properties.MessageId, redeliveries, context.Exception.GetType().Name, context.Exception.Message);
            await next.Send(context);
            return;
        }

        var properties = new BasicProperties(delivery.Properties)
        {
            Headers = new Dictionary<string, object?>(delivery.Properties.Headers ?? new Dictionary<string, object?>()),
        };
        properties.Headers[PipelineQueues.RedeliveryCountHeader] = redeliveries + 1;
        properties.Headers.Remove("x-delivery-count");
        properties.Expiration = null;

        var delayQueue = PipelineQueues.DelayQueue(queue, delay);
        // Mandatory: a delay queue that does not exist makes the publish fail instead of dropping the message.
        await channel.BasicPublishAsync("", delayQueue, true, properties, context.Body.GetBytes(), true, context.CancellationToken);
        LogDelayed(logger, delivery.Properties.MessageId, context.Exception.GetType().Name, context.Exception.Message,
            redeliveries + 1, schedule.Delays.Count, delay, delayQueue);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("pipelineDelayedRedelivery");

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Message {MessageId} still fails after its in-memory retries ({ExceptionType}: {Reason}); delayed retry {Attempt} of {Attempts} in {Delay} through {DelayQueue}")]
    private static partial void LogDelayed(ILogger logger, string? messageId, string exceptionType, string reason, int attempt, int attempts, TimeSpan delay, string delayQueue);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Message {MessageId} goes to the dead letters after {Redeliveries} delayed retries ({ExceptionType}: {Reason})")]
    private static partial void LogDeadLettered(ILogger logger, string? messageId, int redeliveries, string exceptionType, string reason);
}
