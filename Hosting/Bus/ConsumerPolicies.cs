using MassTransit;
using MassTransit.Middleware;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Batching;

namespace Pipeline.Hosting.Bus;

/// <summary>A fault that no retry can fix (a malformed message, a broken invariant): straight to the dead letters.</summary>
public sealed class PermanentMessageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The endpoint policy every consumer definition starts from.</summary>
public static class ConsumerPolicies
{
    /// <summary>
    /// Failure is normal; each level below catches what the one before could not:
    /// 1. in-memory exponential retry with jitter for passing faults (database timeouts, deadlocks, concurrency
    ///    conflicts), <c>Bus:RetryLimit</c> times, the message unacknowledged meanwhile;
    /// 2. on RabbitMQ, delayed retries through TTL queues (<c>Bus:Redelivery</c>, minutes apart), which outlive a
    ///    restart of the consumer because the message waits in the broker;
    /// 3. then <c>&lt;queue&gt;_error</c> with MassTransit's fault headers, where pipeline-ops can replay it.
    /// Permanent faults (<see cref="IsPermanent"/>) skip 1 and 2. A message that crashes the process is never
    /// seen by any of this: the quorum queue counts its deliveries, a redelivered message is worked on alone in
    /// <c>&lt;queue&gt;_isolated</c>, and past <c>Bus:DeliveryLimit</c> RabbitMQ dead-letters it to <c>&lt;queue&gt;_error</c>.
    /// </summary>
    /// <param name="context">The registration context <c>ConfigureConsumer</c> is given: the bus's policy comes from it.</param>
    public static void UsePipelineDefaults(this IReceiveEndpointConfigurator endpoint, IRegistrationContext context)
    {
        endpoint.UsePipelineQueues(context, delayedRetries: true);
        endpoint.UsePipelineRetry(context);
    }

    /// <summary>
    /// The in-memory half of <see cref="UsePipelineDefaults"/>: <c>Bus:RetryLimit</c> exponential retries with jitter,
    /// none for <see cref="PermanentMessageException"/> or what <paramref name="configure"/> adds (more exceptions to
    /// ignore). A consumer that must know its last attempt compares <c>GetRetryAttempt()</c> with the same setting.
    /// </summary>
    public static void UsePipelineRetry(
        this IReceiveEndpointConfigurator endpoint, IRegistrationContext context, Action<IRetryConfigurator>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var retryLimit = context.GetRequiredService<EndpointPolicy>().Options.RetryLimit;
        if (retryLimit > 0)
        {
            endpoint.UseMessageRetry(r =>
            {
                r.Exponential(retryLimit, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
                r.Ignore<PermanentMessageException>();
                r.Ignore<System.Runtime.Serialization.SerializationException>();
                r.Ignore<System.Text.Json.JsonException>();
                configure?.Invoke(r);
            });
        }
    }

    /// <summary>Whether this delivery of the message follows a failed attempt (an in-memory retry or a delayed one).</summary>
    public static bool FailedBefore(this ConsumeContext context) =>
        FailedBefore(context.GetRetryAttempt(), context.GetRedeliveryCount(),
            context.ReceiveContext.TryGetPayload(out RabbitMqBasicConsumeContext? delivery) ? delivery.Properties.Headers : null);

    /// <summary>
    /// An in-memory retry, MassTransit's redelivery count, or this project's delay queues (which count in
    /// <see cref="PipelineQueues.RedeliveryCountHeader"/>, <see cref="DelayedRedeliveryFilter"/>).
    /// </summary>
    public static bool FailedBefore(int retryAttempt, int redeliveryCount, IDictionary<string, object?>? transportHeaders) =>
        retryAttempt > 0 || redeliveryCount > 0 || RedeliverySchedule.CountOf(transportHeaders) > 0;

    /// <summary>
    /// Enough messages in flight on the endpoint to fill the group commit <paramref name="groupCommit"/>'s batches
    /// (<c>MaxBatch</c> × <c>Writers</c>), and never fewer than <c>Bus:PrefetchCount</c>: each consumed message waits for
    /// the commit that holds it, so the endpoint's concurrency is the most a batch can gather. Not on an isolation queue.
    /// </summary>
    public static void UseGroupCommitConcurrency(this IReceiveEndpointConfigurator endpoint, IRegistrationContext context, string groupCommit)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (PipelineQueues.IsIsolationQueue(QueueOf(endpoint)))
        {
            return; // one message at a time there, or a crash would charge every message in flight again
        }

        var batches = context.GetRequiredService<IOptionsMonitor<GroupCommitOptions>>().Get(groupCommit);
        var inFlight = Math.Max(context.GetRequiredService<EndpointPolicy>().Options.PrefetchCount, batches.MaxBatch * batches.Writers);
        endpoint.ConcurrentMessageLimit = inFlight;
        if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.PrefetchCount = inFlight;
        }
    }

    /// <summary>
    /// The queue half of <see cref="UsePipelineDefaults"/>, for an endpoint that brings its own in-memory retry: quorum
    /// queue with the delivery limit, dead-lettering to <c>&lt;queue&gt;_error</c> and crash isolation, and unless
    /// <paramref name="delayedRetries"/> is false the delayed retries after the in-memory ones.
    /// </summary>
    public static void UsePipelineQueues(this IReceiveEndpointConfigurator endpoint, IRegistrationContext context, bool delayedRetries = true)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
            context.GetRequiredService<EndpointPolicy>().ApplyRabbitMq(rabbit, delayedRetries);
        }

        FailFastTestHook.ApplyIfEnabled(endpoint);
    }

    /// <summary>
    /// Faults that no later attempt can fix: <see cref="PermanentMessageException"/> (also as an inner exception) and
    /// a body that is not JSON or that MassTransit cannot deserialize. They skip every retry and go straight to the dead letters.
    /// </summary>
    public static bool IsPermanent(Exception fault) => fault switch
    {
        PermanentMessageException or System.Runtime.Serialization.SerializationException or System.Text.Json.JsonException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsPermanent),
        { InnerException: { } inner } => IsPermanent(inner),
        _ => false,
    };

    /// <summary>The queue an endpoint reads, from its input address (the last path segment).</summary>
    internal static string QueueOf(IReceiveEndpointConfigurator endpoint) =>
        endpoint.InputAddress.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).Last();

    /// <summary>MassTransit's own error pipe, which a configured one replaces: fault event, then the <c>_error</c> queue.</summary>
    internal static void UseDefaultErrorTransport(this IPipeConfigurator<ExceptionReceiveContext> error)
    {
        error.UseFilter(new GenerateFaultFilter());
        error.UseFilter(new ErrorTransportFilter());
    }
}
