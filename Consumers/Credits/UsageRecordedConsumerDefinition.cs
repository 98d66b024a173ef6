using MassTransit;
using Pipeline.Hosting.Bus;

namespace Pipeline.Consumers.Credits;

/// <summary>The endpoint policy of the usage consumer: its queue, its retries.</summary>
public sealed class UsageRecordedConsumerDefinition : ConsumerDefinition<UsageRecordedConsumer>
{
    public const string QueueName = PipelineQueues.CreditsUsage;

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
        // records the failure in the webhook log, which delayed retries would repeat (docs/retries.md). The in-memory
        // retries are the shared policy's; a missing account cannot be fixed by waiting, so it goes to
        // credits-usage_error at once, to be replayed after a top-up opens the account.
        endpointConfigurator.UsePipelineQueues(context, delayedRetries: false);
        endpointConfigurator.UsePipelineRetry(context, r => r.Ignore<UnknownAccountException>());

        // Deductions from one account are applied in turn by one group-commit writer (UsageWriter) instead of racing
        // for the account row: a busy user's usage shares transactions. Replicas still race each other; the
        // concurrency check settles that as before.
        endpointConfigurator.UseGroupCommitConcurrency(context, UsageRecordedConsumer.Name);
    }
}
