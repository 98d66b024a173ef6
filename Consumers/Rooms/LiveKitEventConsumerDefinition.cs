using MassTransit;
using Pipeline.Hosting.Bus;

namespace Pipeline.Consumers.Rooms;

/// <summary>The endpoint policy of the LiveKit consumer: its queue, its retries, its concurrency.</summary>
public sealed class LiveKitEventConsumerDefinition : ConsumerDefinition<LiveKitEventConsumer>
{
    public const string QueueName = PipelineQueues.RoomsLiveKit;

    public LiveKitEventConsumerDefinition()
    {
        EndpointName = QueueName;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<LiveKitEventConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Quorum queue, in-memory exponential retry (passing database faults, another instance's concurrent change to
        // a room), then rooms-livekit_error with the fault in its headers. One room's events take turns in one writer.
        endpointConfigurator.UsePipelineDefaults(context);
        endpointConfigurator.UseGroupCommitConcurrency(context, LiveKitEventConsumer.Name);
    }
}
