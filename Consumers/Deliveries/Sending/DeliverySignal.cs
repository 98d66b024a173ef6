using System.Collections.Concurrent;

namespace Pipeline.Consumers.Deliveries.Sending;

/// <summary>
/// Wakes an endpoint's lane as soon as a commit gave it work (a fan-out, a test, a resend) or one of its sends
/// finished, and the worker when endpoints changed, so nothing waits for the next poll inside one process.
/// </summary>
public sealed class DeliverySignal
{
    private readonly ConcurrentDictionary<Guid, SemaphoreSlim> _lanes = new();
    private readonly SemaphoreSlim _endpoints = new(0, 1);

    public void Notify(Guid endpointId) => Release(_lanes.GetOrAdd(endpointId, _ => new SemaphoreSlim(0, 1)));

    public Task<bool> WaitAsync(Guid endpointId, TimeSpan timeout, CancellationToken cancellationToken) =>
        _lanes.GetOrAdd(endpointId, _ => new SemaphoreSlim(0, 1)).WaitAsync(timeout, cancellationToken);

    public void Forget(Guid endpointId) => _lanes.TryRemove(endpointId, out _);

    public void NotifyEndpointsChanged() => Release(_endpoints);

    public Task<bool> WaitForEndpointsChangedAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _endpoints.WaitAsync(timeout, cancellationToken);

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
}
