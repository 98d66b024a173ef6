using MassTransit;
using Pipeline.Consumers.Deliveries.Events;
using Pipeline.Consumers.Deliveries.Sending;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.Telemetry;
using Pipeline.Messages.Credits;
using Pipeline.Messages.Rooms;
using Pipeline.Messages.Sandboxes;
using Pipeline.Messages.Webhooks;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.FanOut;

/// <summary>
/// Every message the pipeline produces, mapped to its public event and recorded as one delivery per subscribed
/// endpoint, together with the inbox row in one transaction (shared with the messages consumed alongside, see
/// <see cref="FanOutWriter"/>): a redelivered message adds no second delivery. Nothing is sent here; a message no
/// endpoint wants is acknowledged without a write.
/// </summary>
public sealed partial class EventFanOutConsumer(FanOutWriter writer, DeliverySignal signal, ILogger<EventFanOutConsumer> logger) :
    IConsumer<SandboxLifecycleEventV1>,
    IConsumer<SandboxStaleV1>,
    IConsumer<UsageRecordedV1>,
    IConsumer<CreditBalanceLowV1>,
    IConsumer<CreditsExhaustedV1>,
    IConsumer<CreditsToppedUpV1>,
    IConsumer<GatewayNotificationV1>,
    IConsumer<LiveKitEventV1>,
    IConsumer<WebhookReceivedV1>
{
    public const string Name = "deliveries.fanout";

    public Task Consume(ConsumeContext<SandboxLifecycleEventV1> context) => FanOutAsync(context);

    public Task Consume(ConsumeContext<SandboxStaleV1> context) => FanOutAsync(context);

    public Task Consume(ConsumeContext<UsageRecordedV1> context) => FanOutAsync(context);

    public Task Consume(ConsumeContext<CreditBalanceLowV1> context) => FanOutAsync(context);

    public Task Consume(ConsumeContext<CreditsExhaustedV1> context) => FanOutAsync(context);

    public Task Consume(ConsumeContext<CreditsToppedUpV1> context) => FanOutAsync(context);

    public Task Consume(ConsumeContext<GatewayNotificationV1> context) => FanOutAsync(context);

    public Task Consume(ConsumeContext<LiveKitEventV1> context) => FanOutAsync(context);

    public Task Consume(ConsumeContext<WebhookReceivedV1> context) => FanOutAsync(context);

    private async Task FanOutAsync<T>(ConsumeContext<T> context) where T : class
    {
        var messageId = context.MessageId ?? throw new PermanentMessageException($"A {typeof(T).Name} without a MessageId cannot be deduplicated.");
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["MessageId"] = messageId });
        using var effect = ConsumerEffect.Start(Name, messageId);
        var e = BusEventMapper.Map(context.Message, messageId);
        if (e is null)
        {
            effect.Complete(applied: true);
            LogNotPublic(logger, typeof(T).Name, messageId);
            return;
        }

        var result = await writer.FanOutAsync(messageId, e, retry: context.FailedBefore(), context.CancellationToken);
        effect.Complete(applied: result.Outcome != FanOutOutcome.Duplicate);
        if (result.Outcome == FanOutOutcome.NoSubscriber)
        {
            LogNoSubscriber(logger, e.Type, e.Id);
            return;
        }

        if (result.Outcome == FanOutOutcome.Duplicate)
        {
            LogDuplicate(logger, e.Type, e.Id, messageId);
            return;
        }

        var deliveries = result.Deliveries;
        DeliveriesMetrics.Created(deliveries);
        foreach (var delivery in deliveries.Where(d => d.Status == DeliveryStatuses.Pending))
        {
            if (delivery.LockedBy is null)
            {
                signal.Notify(delivery.EndpointId);
            }
            else
            {
                signal.Wake(delivery.EndpointId);
            }
        }

        LogFannedOut(logger, e.Type, e.Id, deliveries.Count(d => d.Status == DeliveryStatuses.Pending), deliveries.Count(d => d.Status == DeliveryStatuses.Skipped));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{EventType} {WebhookId}: {Pending} delivery(ies) recorded, {Skipped} skipped (endpoint disabled)")]
    private static partial void LogFannedOut(ILogger logger, string eventType, string webhookId, int pending, int skipped);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{EventType} {WebhookId}: no endpoint subscribes to it")]
    private static partial void LogNoSubscriber(ILogger logger, string eventType, string webhookId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{MessageType} {MessageId} has no public event type (an unknown label or event); acknowledged")]
    private static partial void LogNotPublic(ILogger logger, string messageType, Guid messageId);

    [LoggerMessage(Level = LogLevel.Information, Message = "{EventType} {WebhookId}: message {MessageId} was fanned out before; acknowledged without effect")]
    private static partial void LogDuplicate(ILogger logger, string eventType, string webhookId, Guid messageId);
}

/// <summary>The fan-out's queue, with the endpoint policy every consumer starts from and enough messages in flight to fill its batches.</summary>
public sealed class EventFanOutConsumerDefinition : ConsumerDefinition<EventFanOutConsumer>
{
    public const string QueueName = "deliveries-events";

    public EventFanOutConsumerDefinition()
    {
        EndpointName = QueueName;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<EventFanOutConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Quorum queue, in-memory exponential retry for passing database faults, delayed retries, then
        // deliveries-events_error with the fault in its headers (pipeline-ops dead-letters replay).
        endpointConfigurator.UsePipelineDefaults(context);
        endpointConfigurator.UseGroupCommitConcurrency(context, EventFanOutConsumer.Name);
    }
}
