using MassTransit;

namespace Pipeline.Hosting.Bus;

/// <summary>A fault that no retry can fix (a malformed message, a broken invariant): straight to the dead letters.</summary>
public sealed class PermanentMessageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The endpoint policy every consumer definition starts from.</summary>
public static class ConsumerPolicies
{
    /// <summary>
    /// Quorum queue on RabbitMQ; exponential in-memory retry with jitter for passing faults (database timeouts,
    /// deadlocks, concurrency conflicts); none for permanent ones. A message that still fails moves to
    /// <c>&lt;queue&gt;_error</c> with MassTransit's fault headers, where pipeline-ops can replay it.
    /// </summary>
    public static void UsePipelineDefaults(this IReceiveEndpointConfigurator endpoint)
    {
        if (endpoint is IRabbitMqReceiveEndpointConfigurator rabbit)
        {
            rabbit.SetQuorumQueue();
        }

        endpoint.UseMessageRetry(r =>
        {
            r.Exponential(6, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(200));
            r.Ignore<PermanentMessageException>();
        });
    }
}
