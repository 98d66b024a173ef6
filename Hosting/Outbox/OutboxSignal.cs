using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Pipeline.Persistence.Outbox;

namespace Pipeline.Hosting.Outbox;

/// <summary>
/// Between the writers of <typeparamref name="TContext"/>'s outbox rows and its dispatcher in this process. A commit that
/// added rows wakes the dispatcher (<see cref="Notify"/>), which claims them from the table. A writer on the hot path
/// can instead hand its rows over (<see cref="TryLease"/> before its commit, <see cref="Handoff"/> after it): they are
/// committed already leased to this process's dispatcher, which publishes them from memory, so the table is not asked
/// for them again and no claim rewrites them. Rows only ever wait in memory under a lease, so a process that dies with
/// some loses none: another dispatcher (or this one, restarted) claims them from the table once the lease has lapsed.
/// </summary>
public sealed class OutboxSignal<TContext>(IOptionsMonitor<OutboxOptions> options)
{
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly ConcurrentQueue<OutboxMessage> _handed = new();
    private int _leased; // leased for a handoff and not yet taken by the dispatcher: bounds the rows held in memory
    private volatile bool _claimRequested;

    /// <summary>Who this process's dispatcher is, in the rows it holds (<see cref="OutboxMessage.LockedBy"/>).</summary>
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>The most rows that may be leased for a handoff at once: four claims' worth.</summary>
    public int Capacity => options.CurrentValue.BatchSize * 4;

    /// <summary>Rows were committed for the dispatcher to claim from the table.</summary>
    public void Notify()
    {
        _claimRequested = true;
        Wake();
    }

    /// <summary>
    /// Leases <paramref name="rows"/>, not yet committed, to this process's dispatcher when it has room for them, else
    /// leaves them for a claim. After the commit, <see cref="Handoff"/> must be called with the same count; when the
    /// commit failed, <see cref="Abandon"/>.
    /// </summary>
    /// <returns>False when the dispatcher holds enough already: the rows are written unleased, and <see cref="Notify"/> is due.</returns>
    public bool TryLease(IReadOnlyCollection<OutboxMessage> rows, DateTime now)
    {
        if (Interlocked.Add(ref _leased, rows.Count) > Capacity)
        {
            Interlocked.Add(ref _leased, -rows.Count);
            foreach (var row in rows)
            {
                row.LockedBy = null; // of an earlier attempt whose commit failed
                row.LockedUntil = null;
            }

            return false;
        }

        var until = now + options.CurrentValue.Lease;
        foreach (var row in rows)
        {
            row.LockedBy = Owner;
            row.LockedUntil = until;
        }

        return true;
    }

    /// <summary>
    /// Hands the committed rows of a lease over to the dispatcher; <paramref name="leased"/> is how many
    /// <see cref="TryLease"/> took (rows it leased that were not written, such as a duplicate's, are let go).
    /// </summary>
    public void Handoff(IReadOnlyCollection<OutboxMessage> committed, int leased)
    {
        foreach (var row in committed)
        {
            _handed.Enqueue(row);
        }

        Interlocked.Add(ref _leased, committed.Count - leased);
        if (committed.Count > 0)
        {
            Wake();
        }
    }

    /// <summary>The commit of leased rows failed: none of them is in the table.</summary>
    public void Abandon(int leased) => Interlocked.Add(ref _leased, -leased);

    /// <summary>Up to <paramref name="max"/> handed-over rows, oldest first, for the dispatcher.</summary>
    public List<OutboxMessage> TakeHanded(int max)
    {
        var rows = new List<OutboxMessage>(Math.Min(max, _handed.Count));
        while (rows.Count < max && _handed.TryDequeue(out var row))
        {
            rows.Add(row);
        }

        Interlocked.Add(ref _leased, -rows.Count);
        return rows;
    }

    /// <summary>True once after a <see cref="Notify"/>: the table has rows no handoff covers.</summary>
    public bool TakeClaimRequest()
    {
        if (!_claimRequested)
        {
            return false;
        }

        _claimRequested = false;
        return true;
    }

    /// <summary>Waits until rows are handed over or a claim is requested (true), or the timeout (false).</summary>
    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _signal.WaitAsync(timeout, cancellationToken);

    /// <summary>Ends the dispatcher's wait (also when a publish round has been answered).</summary>
    internal void Wake()
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
}
