using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Pipeline.Ingress.Webhooks;

/// <summary>
/// The (provider, dedup key) pairs this process saw committed in the last seconds: recorded, or found recorded before.
/// A verified request with one of them is a repeat (a sender's retry, or a captured request replayed), answered as the
/// duplicate it is without a commit and without using the provider's rate (<see cref="WebhookPipeline"/>).
/// <para>
/// Two generations of at most <see cref="Capacity"/> keys each: when the newer one is full or
/// <c>Ingress:RateLimit:RepeatWindow</c> old it becomes the older one and the older one is dropped, so memory is bounded
/// whatever arrives and a key is remembered for at most twice the window (10 minutes at most), far inside the shortest
/// dedup window (receipts are kept an hour at least). A key found in the older generation is carried into the newer
/// one: a request replayed without pause stays a repeat. A window of 0 turns it off.
/// </para>
/// </summary>
public sealed class RecentlyRecorded(TimeProvider clock, IOptions<RateLimitOptions> options)
{
    public const int Capacity = 16_384;

    private readonly TimeSpan _window = options.Value.RepeatWindow;

    private readonly Lock _rotating = new();
    private Generation _current = new(clock.GetTimestamp());
    private Generation _previous = new(clock.GetTimestamp());

    public bool Contains(string provider, string dedupKey)
    {
        if (_window == TimeSpan.Zero)
        {
            return false;
        }

        var key = (provider, dedupKey);
        if (Holds(Volatile.Read(ref _current), key))
        {
            return true;
        }

        if (!Holds(Volatile.Read(ref _previous), key))
        {
            return false;
        }

        Add(provider, dedupKey);
        return true;
    }

    /// <summary>Only once the receipt is committed (or found committed before): a key here always has its receipt.</summary>
    public void Add(string provider, string dedupKey)
    {
        if (_window == TimeSpan.Zero)
        {
            return;
        }

        var current = Volatile.Read(ref _current);
        if (current.Keys.TryAdd((provider, dedupKey), 0)
            && (Interlocked.Increment(ref current.Count) >= Capacity || clock.GetElapsedTime(current.Started) >= _window))
        {
            Rotate(current);
        }
    }

    // A generation rotates only when a key is added: without traffic, its age alone tells that its keys are too old.
    private bool Holds(Generation generation, (string, string) key) =>
        generation.Keys.ContainsKey(key) && clock.GetElapsedTime(generation.Started) < 2 * _window;

    private void Rotate(Generation full)
    {
        lock (_rotating)
        {
            if (_current != full)
            {
                return; // another request rotated it already
            }

            Volatile.Write(ref _previous, full);
            Volatile.Write(ref _current, new Generation(clock.GetTimestamp()));
        }
    }

    private sealed class Generation(long started)
    {
        public readonly ConcurrentDictionary<(string Provider, string DedupKey), byte> Keys = new();
        public readonly long Started = started;
        public int Count;
    }
}
