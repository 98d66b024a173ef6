using MassTransit;
using Microsoft.Extensions.Logging;

namespace Pipeline.Hosting.Bus;

/// <summary>
/// The <c>Bus</c> settings that <see cref="ConsumerPolicies.UsePipelineDefaults"/> applies. Consumer definitions
/// have no access to options, so the bus makes its policy current while it configures its endpoints (only then).
/// </summary>
internal sealed class EndpointPolicy(BusOptions options, ILoggerFactory loggerFactory)
{
    private static readonly AsyncLocal<EndpointPolicy?> Ambient = new();

    public static EndpointPolicy? Current => Ambient.Value;

    public BusOptions Options { get; } = options;

    public RedeliverySchedule Redelivery { get; } = new(options.RedeliverySchedule());

    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    /// <summary>The consumer queues (not isolation queues) configured with this policy, for their isolation endpoints.</summary>
    public HashSet<string> ConsumerQueues { get; } = new(StringComparer.Ordinal);

    public Scope MakeCurrent()
    {
        var previous = Ambient.Value;
        Ambient.Value = this;
        return new Scope(previous);
    }

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

    public readonly struct Scope(EndpointPolicy? previous) : IDisposable
    {
        public void Dispose() => Ambient.Value = previous;
    }
}
