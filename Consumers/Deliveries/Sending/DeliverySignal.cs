using System.Collections.Concurrent;

namespace Pipeline.Consumers.Deliveries.Sending;

/// <summary>
/// Wakes an endpoint's lane as soon as a commit gave it work in the database (a fan-out, a test, a resend, a retry
/// recorded: <see cref="Notify"/>) or there is something else to do (a hand-off arrived, one of its sends finished:
/// <see cref="Wake"/>), and the worker when endpoints changed, so nothing waits for the next poll inside one process.
/// </summary>
public sealed class DeliverySignal
{
    private readonly ConcurrentDictionary<Guid, Lane> _lanes = new();
    private readonly SemaphoreSlim _endpoints = new(0, 1);

    /// <summary>The endpoint has rows in the database to look at.</summary>
    public void Notify(Guid endpointId)
    {
        var lane = LaneOf(endpointId);
        Volatile.Write(ref lane.DatabaseWork, 1);
        Release(lane.Signal);
    }

    /// <summary>The endpoint's lane has something to do that needs no look at the database.</summary>
    public void Wake(Guid endpointId) => Release(LaneOf(endpointId).Signal);

    /// <summary>Whether <see cref="Notify"/> was called since the last call; clears it.</summary>
    public bool TakeDatabaseWork(Guid endpointId) => Interlocked.Exchange(ref LaneOf(endpointId).DatabaseWork, 0) == 1;

    public Task<bool> WaitAsync(Guid endpointId, TimeSpan timeout, CancellationToken cancellationToken) =>
        LaneOf(endpointId).Signal.WaitAsync(timeout, cancellationToken);

    public void Forget(Guid endpointId) => _lanes.TryRemove(endpointId, out _);

    public void NotifyEndpointsChanged() => Release(_endpoints);

    public Task<bool> WaitForEndpointsChangedAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _endpoints.WaitAsync(timeout, cancellationToken);

    private Lane LaneOf(Guid endpointId) => _lanes.GetOrAdd(endpointId, _ => new Lane());

    // At most one pending wake-up: many notifications during one round need only one more round.
    private static void Release(SemaphoreSlim signal)
    {
        if (signal.CurrentCount == 0)
        {
            try
            {
                signal.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    private sealed class Lane
    {
        public readonly SemaphoreSlim Signal = new(0, 1);
        public int DatabaseWork;
    }
}
