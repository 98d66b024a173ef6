using MassTransit;
using Pipeline.Hosting.Bus;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>The endpoint policy of the lifecycle consumer: its queue, its retries, its concurrency.</summary>
public sealed class SandboxLifecycleConsumerDefinition : ConsumerDefinition<SandboxLifecycleConsumer>
{
    public const string QueueName = PipelineQueues.SandboxesLifecycle;

    public SandboxLifecycleConsumerDefinition()
    {
        EndpointName = QueueName;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SandboxLifecycleConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.UsePipelineDefaults(context);
        endpointConfigurator.UseGroupCommitConcurrency(context, SandboxLifecycleConsumer.Name);
    }
}
