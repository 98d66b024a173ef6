using MassTransit;
using Pipeline.Consumers.Credits;
using Pipeline.Consumers.Rooms;
using Pipeline.Consumers.Sandboxes;
using Pipeline.Hosting.Outbox;
using Pipeline.Messages.Sandboxes;

namespace Pipeline.UnitTests.Bus;

public class ConsumerQueueMapTests
{
    [Fact]
    public void Every_domain_consumer_queue_is_the_one_the_outbox_waits_for_and_no_other_contract_waits()
    {
        // Every consumer definition of the domain services (Deliveries takes every contract and is optional).
        var consumed = new[] { typeof(SandboxLifecycleConsumerDefinition), typeof(UsageRecordedConsumerDefinition), typeof(LiveKitEventConsumerDefinition) }
            .SelectMany(t => t.Assembly.GetTypes())
            .Where(t => t.BaseType is { IsGenericType: true } b && b.GetGenericTypeDefinition() == typeof(ConsumerDefinition<>))
            .SelectMany(definition =>
            {
                var queue = (string)definition.GetField("QueueName")!.GetValue(null)!;
                var consumer = definition.BaseType!.GetGenericArguments().Single();
                return consumer.GetInterfaces()
                    .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IConsumer<>))
                    .Select(i => (Contract: i.GetGenericArguments().Single(), Queue: queue));
            })
            .ToList();

        Assert.Equal(6, consumed.Count);
        Assert.All(consumed, c => Assert.Equal(c.Queue, OutboxMessageTypes.ConsumerQueueOf(c.Contract)));
        var waiting = typeof(SandboxLifecycleEventV1).Assembly.GetExportedTypes().Where(t => OutboxMessageTypes.ConsumerQueueOf(t) is not null);
        Assert.Equal(consumed.Select(c => c.Contract).OrderBy(t => t.FullName), waiting.OrderBy(t => t.FullName));
    }
}
