using System.ComponentModel.DataAnnotations;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Pipeline.Ingress.Webhooks;

/// <summary><c>Ingress:RateLimit</c>: a token bucket per provider or source; <c>Providers</c> overrides it by name.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "Ingress:RateLimit";

    /// <summary>Sustained requests per second for one provider (all Ingress replicas count separately).</summary>
    [Range(1, 1_000_000)]
    public int PerSecond { get; set; } = 2000;

    /// <summary>Requests allowed at once above the sustained rate.</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 4000;

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
/// Refuses a provider's requests with 429 and Retry-After once its bucket is empty, before the body is read, so a
/// flood from one sender cannot starve the others. Buckets are rebuilt when the settings change.
/// </summary>
public sealed class WebhookRateLimiter : IDisposable
{
    private readonly IDisposable? _subscription;
    private PartitionedRateLimiter<string> _limiter;

    public WebhookRateLimiter(IOptionsMonitor<RateLimitOptions> options)
    {
        _limiter = Build(options.CurrentValue);
        _subscription = options.OnChange(o =>
        {
            var old = Interlocked.Exchange(ref _limiter, Build(o));
            old.Dispose();
        });
    }

    /// <returns>null when the request may go on, else how long the sender should wait.</returns>
    public TimeSpan? TryAcquire(string provider)
    {
        using var lease = _limiter.AttemptAcquire(provider);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
    }

    public void Dispose()
    {
        _subscription?.Dispose();
        _limiter.Dispose();
    }

    private static PartitionedRateLimiter<string> Build(RateLimitOptions options) =>
        PartitionedRateLimiter.Create<string, string>(provider =>
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
        });
}
