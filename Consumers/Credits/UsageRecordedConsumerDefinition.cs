using MassTransit;
using Pipeline.Hosting.Bus;

namespace Pipeline.Consumers.Credits;

/// <summary>The endpoint policy of the usage consumer: its queue, its retries.</summary>
public sealed class UsageRecordedConsumerDefinition : ConsumerDefinition<UsageRecordedConsumer>
{
    public const string QueueName = "credits-usage";

    /// <summary>In-memory redeliveries after the first attempt; the last one records the failure in the webhook log.</summary>
    public const int RetryLimit = 8;

    public UsageRecordedConsumerDefinition()
    {
        EndpointName = QueueName;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<UsageRecordedConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Quorum queue with the delivery limit and crash isolation, but no delayed retries: the last in-memory attempt
        // below records the failure, which delayed retries would repeat (docs/retries.md).
        endpointConfigurator.UsePipelineQueues(delayedRetries: false);

        // ConsumerPolicies.UsePipelineDefaults, with a retry limit of our own: the consumer records the last attempt's
        // failure in the webhook log, so it must know which attempt is the last, and deductions on one busy account
        // may need more rounds. Passing faults are retried with exponential backoff; what still fails goes to
        // credits-usage_error with the fault in its headers. A missing account or message id cannot be fixed by
        // waiting, so those go there at once.
        endpointConfigurator.UseMessageRetry(r =>
        {
            r.Exponential(RetryLimit, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
            r.Ignore<UnknownAccountException>();
            r.Ignore<PermanentMessageException>();
        });
    }
}
