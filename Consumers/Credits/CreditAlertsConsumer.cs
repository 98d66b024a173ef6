using MassTransit;
using Pipeline.Hosting.Bus;
using Pipeline.Messages.Credits;

namespace Pipeline.Consumers.Credits;

/// <summary>
/// Turns balance alerts into operator log lines. Its queue also keeps the alert exchanges bound in every deployment,
/// so the Credits outbox (which publishes with the mandatory flag) always has somewhere to deliver them; other services
/// that act on alerts (mail, blocking a token) bind queues of their own to the same exchanges.
/// </summary>
public sealed partial class CreditAlertsConsumer(ILogger<CreditAlertsConsumer> logger)
    : IConsumer<CreditBalanceLowV1>, IConsumer<CreditsExhaustedV1>
{
    public Task Consume(ConsumeContext<CreditBalanceLowV1> context)
    {
        var m = context.Message;
        LogLow(logger, m.UserId, CreditRules.Trim(m.Balance), CreditRules.Trim(m.Threshold));
        return Task.CompletedTask;
    }

    public Task Consume(ConsumeContext<CreditsExhaustedV1> context)
    {
        var m = context.Message;
        LogExhausted(logger, m.UserId, CreditRules.Trim(m.Balance));
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Credit balance of {UserId} is low: {Balance} (threshold {Threshold})")]
    private static partial void LogLow(ILogger logger, string userId, decimal balance, decimal threshold);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Credits of {UserId} are exhausted: balance {Balance}")]
    private static partial void LogExhausted(ILogger logger, string userId, decimal balance);
}

/// <summary>The alerts queue, with the endpoint policy every consumer starts from.</summary>
public sealed class CreditAlertsConsumerDefinition : ConsumerDefinition<CreditAlertsConsumer>
{
    public const string QueueName = PipelineQueues.CreditsAlerts;

    public CreditAlertsConsumerDefinition()
    {
        EndpointName = QueueName;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CreditAlertsConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UsePipelineDefaults(context);
    }
}
