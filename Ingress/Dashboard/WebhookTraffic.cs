using System.Diagnostics;

namespace Pipeline.Ingress.Dashboard;

/// <summary>
/// The last hour of webhook answers per provider, kept in this process for the dashboard: per minute, the count of
/// accepted (2xx) and refused answers by status, and a latency histogram of the accepted ones. Memory is bounded by
/// 60 minutes × configured providers, whatever the traffic. One per process (a singleton), like the Prometheus series it mirrors.
/// </summary>
public sealed class WebhookTraffic(TimeProvider clock)
{
    public const int WindowMinutes = 60;

    /// <summary>Upper bounds of the latency buckets in milliseconds; a last, open bucket holds anything slower.</summary>
    internal static readonly double[] BucketBoundsMs = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

    private readonly Lock _lock = new();
    private readonly Dictionary<string, Minute?[]> _providers = new(StringComparer.Ordinal);

    /// <summary>Records the answer once it has been sent, so every outcome (an unhandled error's 500 too) is seen.</summary>
    public void Track(HttpContext http, string provider, long startedTimestamp) =>
        http.Response.OnCompleted(() =>
        {
            Record(provider, http.Response.StatusCode, Stopwatch.GetElapsedTime(startedTimestamp));
            return Task.CompletedTask;
        });

    public void Record(string provider, int status, TimeSpan elapsed)
    {
        var now = CurrentMinute();
        lock (_lock)
        {
            if (!_providers.TryGetValue(provider, out var ring))
            {
                _providers[provider] = ring = new Minute?[WindowMinutes];
            }

            var slot = (int)(now % WindowMinutes);
            if (ring[slot] is not { } minute || minute.Index != now)
            {
                ring[slot] = minute = new Minute(now);
            }

            minute.Add(status, elapsed.TotalMilliseconds);
        }
    }

    /// <summary>Totals over the last <paramref name="minutes"/> minutes (the current one included), by provider.</summary>
    public IReadOnlyList<ProviderTraffic> Snapshot(int minutes)
    {
        var now = CurrentMinute();
        var from = now - Math.Clamp(minutes, 1, WindowMinutes) + 1;
        var result = new List<ProviderTraffic>();
        lock (_lock)
        {
            foreach (var (provider, ring) in _providers)
            {
                var total = new Minute(now);
                foreach (var minute in ring)
                {
                    if (minute is not null && minute.Index >= from && minute.Index <= now)
                    {
                        total.Merge(minute);
                    }
                }

                if (total.Accepted + total.Rejected.Values.Sum() > 0)
                {
                    result.Add(total.ToTraffic(provider));
                }
            }
        }

        return result.OrderBy(t => t.Provider, StringComparer.Ordinal).ToList();
    }

    private long CurrentMinute() => clock.GetUtcNow().ToUnixTimeSeconds() / 60;

    private sealed class Minute(long index)
    {
        public long Index { get; } = index;
        public long Accepted { get; private set; }
        public SortedDictionary<int, long> Rejected { get; } = [];
        private readonly long[] _buckets = new long[BucketBoundsMs.Length + 1];
        private double _maxMs;

        public void Add(int status, double milliseconds)
        {
            if (status is < 200 or > 299)
            {
                Rejected[status] = Rejected.GetValueOrDefault(status) + 1;
                return;
            }

            Accepted++;
            var bucket = Array.FindIndex(BucketBoundsMs, bound => milliseconds <= bound);
            _buckets[bucket < 0 ? BucketBoundsMs.Length : bucket]++;
            _maxMs = Math.Max(_maxMs, milliseconds);
        }

        public void Merge(Minute other)
        {
            Accepted += other.Accepted;
            foreach (var (status, count) in other.Rejected)
            {
                Rejected[status] = Rejected.GetValueOrDefault(status) + count;
            }

            for (var i = 0; i < _buckets.Length; i++)
            {
                _buckets[i] += other._buckets[i];
            }

            _maxMs = Math.Max(_maxMs, other._maxMs);
        }

        public ProviderTraffic ToTraffic(string provider) => new(
            provider, Accepted, Rejected.Values.Sum(), new Dictionary<int, long>(Rejected),
            Accepted == 0 ? null : new LatencySummary(Accepted, Percentile(0.50), Percentile(0.95), Math.Round(_maxMs, 1)));

        /// <summary>The upper bound of the bucket the quantile falls in, never above the slowest answer seen.</summary>
        private double Percentile(double quantile)
        {
            var rank = (long)Math.Ceiling(quantile * Accepted);
            long seen = 0;
            for (var i = 0; i < BucketBoundsMs.Length; i++)
            {
                seen += _buckets[i];
                if (seen >= rank)
                {
                    return Math.Min(BucketBoundsMs[i], Math.Round(_maxMs, 1));
                }
            }

            return Math.Round(_maxMs, 1);
        }
    }
}

/// <summary>One provider's answers in the window: this process's view (another replica keeps its own).</summary>
public sealed record ProviderTraffic(string Provider, long Accepted, long Rejected, IReadOnlyDictionary<int, long> RejectedByStatus, LatencySummary? Latency);

/// <summary>Latency of the accepted answers in milliseconds; p50 and p95 are bucket bounds (≤ that value).</summary>
public sealed record LatencySummary(long Count, double P50, double P95, double Max);
