using MassTransit;
using Pipeline.Hosting.Bus;
using Pipeline.Messages.Credits;

namespace Pipeline.Consumers.Credits;

/// <summary>
/// Upstream new-api notifications (quota_exceed, channel_update, channel_test, …) become operator log lines. Its queue
/// also gives Ingress's outbox, which publishes with the mandatory flag, a route for every notification it accepts.
/// </summary>
public sealed partial class GatewayNotificationConsumer(ILogger<GatewayNotificationConsumer> logger) : IConsumer<GatewayNotificationV1>
{
    private const int MaxLoggedLength = 200;

    public Task Consume(ConsumeContext<GatewayNotificationV1> context)
    {
        var m = context.Message;
        LogNotification(logger, m.Type, Shorten(m.Title), Shorten(m.Content), m.OccurredAt, m.EventId);
        return Task.CompletedTask;
    }

    private static string Shorten(string? text) =>
        text is null ? "" : text.Length <= MaxLoggedLength ? text : text[..MaxLoggedLength] + "…";

    [LoggerMessage(Level = LogLevel.Warning, Message = "new-api notification {Type}: {Title} {Content} (at {OccurredAt}, notification {NotificationId})")]
    private static partial void LogNotification(ILogger logger, string type, string title, string content, DateTimeOffset occurredAt, string notificationId);
}

public sealed class GatewayNotificationConsumerDefinition : ConsumerDefinition<GatewayNotificationConsumer>
{
    public const string QueueName = PipelineQueues.CreditsGatewayNotifications;

    public GatewayNotificationConsumerDefinition()
    {
        EndpointName = QueueName;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<GatewayNotificationConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UsePipelineDefaults(context);
    }
}
