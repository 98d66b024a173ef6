using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Pipeline.Hosting;

namespace Pipeline.Ingress.Webhooks;

/// <summary>
/// <c>Ingress:RateLimit</c>: a token bucket per provider or source for verified requests (<c>Providers</c> overrides it by
/// name), and per client address one for requests that fail verification and one for repeats.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "Ingress:RateLimit";

    /// <summary>Sustained requests per second for one provider (all Ingress replicas count separately).</summary>
    [Range(1, 1_000_000)]
    public int PerSecond { get; set; } = 2000;

    /// <summary>Requests allowed at once above the sustained rate.</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 4000;

    /// <summary>Failed verifications a second from one client address; past them, its failures are answered 429.</summary>
    [Range(1, 1_000_000)]
    public int FailedVerificationsPerSecond { get; set; } = 10;

    /// <summary>Failed verifications allowed at once from one client address.</summary>
    [Range(1, 1_000_000)]
    public int FailedVerificationsBurst { get; set; } = 100;

    /// <summary>
    /// Repeats a second from one client address: verified requests whose event was recorded moments ago (a sender's
    /// retries, or a captured request replayed). They are answered as duplicates and charged here, not to the provider.
    /// </summary>
    [Range(1, 1_000_000)]
    public int RepeatsPerSecond { get; set; } = 50;

    /// <summary>
    /// How long a recorded event's key is remembered as recorded (between one and two windows), read at start; 0: every
    /// repeat goes to the database and counts against the provider's rate.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan RepeatWindow { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Repeats allowed at once from one client address.</summary>
    [Range(1, 1_000_000)]
    public int RepeatsBurst { get; set; } = 500;

    /// <summary>Per provider or source name: its own rate, e.g. <c>Ingress:RateLimit:Providers:e2b:PerSecond</c>.</summary>
    public Dictionary<string, ProviderRate> Providers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public sealed class ProviderRate
    {
        [Range(1, 1_000_000)]
        public int? PerSecond { get; set; }

        [Range(1, 1_000_000)]
        public int? Burst { get; set; }
    }
}

/// <summary>
/// Three kinds of bucket, rebuilt when the settings change. A provider's bucket is charged only for new requests that
/// passed verification, so neither forgeries nor replays of a genuine request can use up a genuine sender's rate; a flood
/// from one genuine sender cannot starve the others. Failed verifications and repeats are charged to the client
/// address instead, each in a bounded set of buckets.
/// </summary>
public sealed class WebhookRateLimiter : IDisposable
{
    private readonly IDisposable? _subscription;
    private Limiters _limiters;

    public WebhookRateLimiter(IOptionsMonitor<RateLimitOptions> options)
    {
        _limiters = new Limiters(options.CurrentValue);
        _subscription = options.OnChange(o => Interlocked.Exchange(ref _limiters, new Limiters(o)).Dispose());
    }

    /// <summary>Charges a verified request to its provider.</summary>
    /// <returns>null when the request may go on, else how long the sender should wait.</returns>
    public TimeSpan? TryAcquire(string provider)
    {
        using var lease = _limiters.Providers.AttemptAcquire(provider);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
    }

    /// <summary>Charges a failed verification to the client address it came from.</summary>
    /// <returns>null while the address is within its limit, else how long it should wait.</returns>
    public TimeSpan? TryAcquireFailure(IPAddress? client) => _limiters.Failures.TryAcquire(client);

    /// <summary>Charges a repeat of a recorded event to the client address it came from.</summary>
    /// <returns>null while the address is within its limit, else how long it should wait.</returns>
    public TimeSpan? TryAcquireRepeat(IPAddress? client) => _limiters.Repeats.TryAcquire(client);

    public void Dispose()
    {
        _subscription?.Dispose();
        _limiters.Dispose();
    }

    private sealed class Limiters(RateLimitOptions options) : IDisposable
    {
        public PartitionedRateLimiter<string> Providers { get; } = BuildProviders(options);

        public ClientAddressLimiter Failures { get; } =
            ClientAddressLimiter.PerSecond(options.FailedVerificationsPerSecond, options.FailedVerificationsBurst);

        public ClientAddressLimiter Repeats { get; } = ClientAddressLimiter.PerSecond(options.RepeatsPerSecond, options.RepeatsBurst);

        public void Dispose()
        {
            Providers.Dispose();
            Failures.Dispose();
            Repeats.Dispose();
        }

        // The limiter asks for the partition on every acquire: each provider's is built once (providers are
        // configured names, and only a verified request of a configured provider is charged).
        private static PartitionedRateLimiter<string> BuildProviders(RateLimitOptions options)
        {
            var partitions = new ConcurrentDictionary<string, RateLimitPartition<string>>(StringComparer.Ordinal);
            return PartitionedRateLimiter.Create<string, string>(provider => partitions.GetOrAdd(provider, Partition, options));
        }

        private static RateLimitPartition<string> Partition(string provider, RateLimitOptions options)
        {
            options.Providers.TryGetValue(provider, out var own);
            var perSecond = own?.PerSecond ?? options.PerSecond;
            var burst = own?.Burst ?? options.Burst;
            return RateLimitPartition.GetTokenBucketLimiter(provider, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = Math.Max(burst, 1),
                TokensPerPeriod = Math.Max(1, perSecond / 10),
                ReplenishmentPeriod = TimeSpan.FromSeconds(Math.Max(1, perSecond / 10) / (double)perSecond),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        }
    }
}
