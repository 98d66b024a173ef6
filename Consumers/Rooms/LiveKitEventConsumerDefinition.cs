using MassTransit;
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
        if (endpointConfigurator is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
        }

        // A busy room sends bursts of events; one room's events take turns in this process instead of colliding on
        // the room row's version. Other instances can still collide: the retry below absorbs that.
        var partitioner = endpointConfigurator.CreatePartitioner(16);
        consumerConfigurator.Message<LiveKitEventV1>(m =>
            m.UsePartitioner(partitioner, c => c.Message.Room?.Sid ?? c.Message.Egress?.RoomId ?? c.Message.EventId));

        // Concurrency conflicts on one room and passing database faults are retried in memory; a message that still
        // fails goes to rooms-livekit_error with the fault in its headers.
        endpointConfigurator.UseMessageRetry(r =>
            r.Exponential(8, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200)));
    }
}
