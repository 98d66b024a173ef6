using MassTransit;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>The endpoint policy of the lifecycle consumer: its queue, its retries, its concurrency.</summary>
public sealed class SandboxLifecycleConsumerDefinition : ConsumerDefinition<SandboxLifecycleConsumer>
{
    public const string QueueName = "sandboxes-lifecycle";

    public SandboxLifecycleConsumerDefinition()
    {
        EndpointName = QueueName;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SandboxLifecycleConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
        }

        // Concurrency conflicts on one sandbox and passing database faults are retried in memory; a message that
        // still fails goes to sandboxes-lifecycle_error with the fault in its headers.
        endpointConfigurator.UseMessageRetry(r =>
            r.Exponential(6, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200)));
    }
}
