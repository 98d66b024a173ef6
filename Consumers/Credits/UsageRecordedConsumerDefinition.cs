using MassTransit;
using Pipeline.Hosting.Bus;
using Pipeline.Messages.Credits;

namespace Pipeline.Consumers.Credits;

/// <summary>The endpoint policy of the usage consumer: its queue, its retries.</summary>
public sealed class UsageRecordedConsumerDefinition : ConsumerDefinition<UsageRecordedConsumer>
{
    public const string QueueName = "credits-usage";

    /// <summary>Accounts worked on at once per process (each account in one partition).</summary>
    public const int Partitions = 16;

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

        // Deductions from one account take turns within this process instead of racing for the account row and
        // retrying the losers: concurrent usage of one busy user no longer costs a conflict per message. Replicas
        // still race each other; the concurrency check settles that as before.
        consumerConfigurator.Message<UsageRecordedV1>(m => m.UsePartitioner(Partitions, context => context.Message.UserId ?? ""));
    }
}
