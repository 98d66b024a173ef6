namespace Pipeline.Hosting.Outbox;

/// <summary>Wakes the dispatcher right after a commit added rows, so publishing does not wait for the next poll.</summary>
public sealed class OutboxSignal<TContext>
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        // At most one pending wake-up: many commits during one dispatch round need only one more round.
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _signal.WaitAsync(timeout, cancellationToken);
}
