using System.Collections.Concurrent;

namespace Pipeline.Consumers.Deliveries.Sending;

/// <summary>
/// Each lane's queue of claimed deliveries waiting for a send slot: the ones this process's fan-out wrote already
/// claimed, passed over in memory once the fan-out committed (so a fresh event is sent without a claim round trip or a
/// poll), and the ones the lane claimed from the database in a batch. The rows are claimed in the database like any
/// other (owner and lease), so a crash loses nothing: the leases run out and any replica claims them. Bounded per
/// endpoint (see <see cref="CapacityFor"/>): past that, the fan-out writes rows unclaimed and
/// the lane claims them from the database as its queue empties. Only endpoints with a running lane take any.
/// </summary>
public sealed class DeliveryHandoff
{
    private readonly ConcurrentDictionary<Guid, Queue> _queues = new();

    // A queue holds about QueueFor of its endpoint's recent sends, at least MinRounds and at most MaxRounds rounds of
    // Deliveries:MaxInFlightPerEndpoint: a fast endpoint gets whole fan-out batches handed over (no claim statement, no
    // second write of each row), a slow or hanging one only what it sends long before the claims run out (4 rounds of
    // 15 s timeouts is a minute, well inside the 2-minute lease).
    private const int MinRounds = 4;
    private const int MaxRounds = 64;
    private static readonly TimeSpan QueueFor = TimeSpan.FromSeconds(10);

    /// <summary>How many claimed deliveries may wait for an endpoint sending <paramref name="sendsPerSecond"/>.</summary>
    public static int CapacityFor(double sendsPerSecond, int maxInFlight) =>
        (int)Math.Clamp(sendsPerSecond * QueueFor.TotalSeconds, MinRounds * maxInFlight, MaxRounds * maxInFlight);

    /// <summary>This process as the owner of its claims.</summary>
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>The lane of <paramref name="endpointId"/> started here: it takes hand-offs from now on.</summary>
    public void Open(Guid endpointId, int capacity) => _queues[endpointId] = new Queue { Capacity = capacity };

    /// <summary>How many deliveries may wait for the lane from now on (what waits beyond it is sent, not dropped).</summary>
    public void Resize(Guid endpointId, int capacity)
    {
        if (_queues.TryGetValue(endpointId, out var queue))
        {
            Volatile.Write(ref queue.Capacity, capacity);
        }
    }

    /// <summary>The lane stopped: what waits is dropped (claimed rows whose leases run out, then claimed again).</summary>
    public void Close(Guid endpointId) => _queues.TryRemove(endpointId, out _);

    /// <summary>
    /// Reserves room for one delivery to <paramref name="endpointId"/>, before the fan-out writes it claimed. Without
    /// room it is written unclaimed, and the lane is told to look in the database (<see cref="DeliverySignal.Notify"/>).
    /// </summary>
    public bool TryReserve(Guid endpointId) => _queues.TryGetValue(endpointId, out var queue) && queue.TryReserve();

    /// <summary>Reserves as much room as is free for <paramref name="endpointId"/>, for a claim that fills its lane; how much.</summary>
    public int ReserveFree(Guid endpointId) => _queues.TryGetValue(endpointId, out var queue) ? queue.ReserveFree() : 0;

    /// <summary>The fan-out committed (or a claim returned): the reserved deliveries go to their lanes.</summary>
    public void Hand(IEnumerable<ClaimedDelivery> deliveries)
    {
        foreach (var delivery in deliveries)
        {
            if (_queues.TryGetValue(delivery.EndpointId, out var queue))
            {
                queue.Items.Enqueue(delivery);
            }
        }
    }

    /// <summary>The fan-out did not commit (or found a duplicate): the reservations are given back.</summary>
    public void Cancel(IEnumerable<Guid> endpointIds)
    {
        foreach (var id in endpointIds)
        {
            if (_queues.TryGetValue(id, out var queue))
            {
                Interlocked.Decrement(ref queue.Reserved);
            }
        }
    }

    /// <summary>Gives back <paramref name="count"/> reservations of one endpoint that were not used.</summary>
    public void Cancel(Guid endpointId, int count)
    {
        if (count > 0 && _queues.TryGetValue(endpointId, out var queue))
        {
            Interlocked.Add(ref queue.Reserved, -count);
        }
    }

    public int Waiting(Guid endpointId) => _queues.TryGetValue(endpointId, out var queue) ? queue.Items.Count : 0;

    public bool TryTake(Guid endpointId, out ClaimedDelivery delivery)
    {
        delivery = null!;
        if (!_queues.TryGetValue(endpointId, out var queue) || !queue.Items.TryDequeue(out var item))
        {
            return false;
        }

        Interlocked.Decrement(ref queue.Reserved);
        delivery = item;
        return true;
    }

    private sealed class Queue
    {
        public readonly ConcurrentQueue<ClaimedDelivery> Items = new();
        public int Reserved;
        public int Capacity;

        public bool TryReserve()
        {
            if (Interlocked.Increment(ref Reserved) <= Volatile.Read(ref Capacity))
            {
                return true;
            }

            Interlocked.Decrement(ref Reserved);
            return false;
        }

        public int ReserveFree()
        {
            while (true)
            {
                var reserved = Volatile.Read(ref Reserved);
                var capacity = Volatile.Read(ref Capacity);
                if (reserved >= capacity)
                {
                    return 0;
                }

                if (Interlocked.CompareExchange(ref Reserved, capacity, reserved) == reserved)
                {
                    return capacity - reserved;
                }
            }
        }
    }
}
