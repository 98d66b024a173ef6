using MassTransit;
using Pipeline.Hosting.Bus;
using Pipeline.Messages.Rooms;

namespace Pipeline.Consumers.Rooms;

/// <summary>The endpoint policy of the LiveKit consumer: its queue, its retries, its ordering per room.</summary>
public sealed class LiveKitEventConsumerDefinition : ConsumerDefinition<LiveKitEventConsumer>
{
    public const string QueueName = "rooms-livekit";

    public LiveKitEventConsumerDefinition()
    {
        EndpointName = QueueName;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<LiveKitEventConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Quorum queue, in-memory exponential retry (concurrency conflicts on one room, passing database faults),
        // then rooms-livekit_error with the fault in its headers.
        endpointConfigurator.UsePipelineDefaults(context);

        // A busy room sends bursts of events; one room's events take turns in this process instead of colliding on
        // the room row's version. Other instances can still collide: the retry absorbs that.
        var partitioner = endpointConfigurator.CreatePartitioner(16);
        consumerConfigurator.Message<LiveKitEventV1>(m =>
            m.UsePartitioner(partitioner, c => c.Message.Room?.Sid ?? c.Message.Egress?.RoomId ?? c.Message.EventId));
    }
}
