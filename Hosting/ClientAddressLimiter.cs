using System.Net;
using System.Threading.RateLimiting;

namespace Pipeline.Hosting;

/// <summary>
/// Token buckets per client address, for failed attempts (forged webhooks, wrong admin keys). Addresses are spread over a
/// fixed number of buckets by a hash seeded anew in every process, so memory stays bounded however many addresses an
/// attacker sprays: they end up sharing buckets, never adding any. Buckets that have refilled are dropped by the limiter.
/// </summary>
public sealed class ClientAddressLimiter : IDisposable
{
    /// <summary>The most buckets there can ever be.</summary>
    public const int Buckets = 4096;

    private readonly PartitionedRateLimiter<int> _limiter;
    private readonly TimeSpan _period;

    /// <param name="burst">Attempts allowed at once.</param>
    /// <param name="tokensPerPeriod">Attempts given back every <paramref name="period"/>.</param>
    public ClientAddressLimiter(int burst, int tokensPerPeriod, TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(burst, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokensPerPeriod, 1);
        _period = period;
        var options = new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = tokensPerPeriod,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
        _limiter = PartitionedRateLimiter.Create<int, int>(bucket => RateLimitPartition.GetTokenBucketLimiter(bucket, _ => options));
    }

    /// <summary>A limiter of <paramref name="perSecond"/> attempts a second, given back a tenth at a time.</summary>
    public static ClientAddressLimiter PerSecond(int perSecond, int burst)
    {
        var tokens = Math.Max(1, perSecond / 10);
        return new ClientAddressLimiter(burst, tokens, TimeSpan.FromSeconds(tokens / (double)perSecond));
    }

    /// <summary>Which bucket an address counts against (an IPv4 address and its IPv6-mapped form share one).</summary>
    public static int BucketOf(IPAddress? address)
    {
        if (address is { IsIPv4MappedToIPv6: true })
        {
            address = address.MapToIPv4();
        }

        return (int)((uint)HashCode.Combine(address) % Buckets);
    }

    /// <summary>Takes one attempt from the address's bucket.</summary>
    /// <returns>null when the attempt is within the limit, else how long the client should wait.</returns>
    public TimeSpan? TryAcquire(IPAddress? address)
    {
        using var lease = _limiter.AttemptAcquire(BucketOf(address));
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? retryAfter : TimeSpan.FromSeconds(1);
    }

    /// <summary>Looks at the address's bucket without taking from it.</summary>
    /// <returns>null while the address has a whole attempt left, else how long until it has one at most.</returns>
    public TimeSpan? WaitIfExhausted(IPAddress? address) =>
        // The statistics count whole tokens; a zero-permit acquire would succeed on a fraction of one.
        _limiter.GetStatistics(BucketOf(address)) is { CurrentAvailablePermits: <= 0 } ? _period : null;

    public void Dispose() => _limiter.Dispose();
}
