using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Pipeline.Hosting.Bus;

/// <summary>
/// The <c>Bus</c> settings that <see cref="ConsumerPolicies.UsePipelineDefaults"/> applies: one per bus (a singleton),
/// which consumer definitions reach through the registration context their <c>ConfigureConsumer</c> is given.
/// </summary>
internal sealed class EndpointPolicy(IOptions<BusOptions> options, ILoggerFactory loggerFactory)
{
    public BusOptions Options { get; } = options.Value;

    public RedeliverySchedule Redelivery { get; } = new(options.Value.RedeliverySchedule());

    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    /// <summary>The consumer queues (not isolation queues) configured with this policy, for their isolation endpoints.</summary>
    public HashSet<string> ConsumerQueues { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// The consumer queue's (or its isolation queue's) delivery limit and dead-lettering, the delayed retries in
    /// its error pipe (if wanted and scheduled), and for a consumer queue: the isolation of redelivered messages and
    /// the declaration of the delay and error queues each time its channel opens.
    /// </summary>
    public void ApplyRabbitMq(IRabbitMqReceiveEndpointConfigurator endpoint, bool delayedRetries)
    {
        var queue = ConsumerPolicies.QueueOf(endpoint);
        foreach (var (key, value) in PipelineQueues.ConsumerQueueArguments(queue, Options.DeliveryLimit))
        {
            endpoint.SetQueueArgument(key, value);
        }

        var schedule = delayedRetries ? Redelivery : RedeliverySchedule.None;
        if (schedule.Delays.Count > 0)
        {
            var redelivery = new DelayedRedeliveryFilter(queue, schedule, LoggerFactory.CreateLogger<DelayedRedeliveryFilter>());
            endpoint.ConfigureError(error =>
            {
                error.UseFilter(redelivery);
                error.UseDefaultErrorTransport();
            });
        }

        if (PipelineQueues.IsIsolationQueue(queue))
        {
            return;
        }

        ConsumerQueues.Add(queue);
        endpoint.ConfigureReceive(receive => receive.UseFilter(new CrashIsolationFilter(queue, LoggerFactory.CreateLogger<CrashIsolationFilter>())));
        endpoint.ConfigureChannel(channel => channel.UseFilter(new DeclarePipelineQueuesFilter(queue, schedule)));
    }
}
