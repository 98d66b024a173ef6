using System.Net;
using Pipeline.Hosting;

namespace Pipeline.UnitTests.Hosting;

public class ClientAddressLimiterTests
{
    [Fact]
    public void An_address_past_its_burst_is_told_to_wait_while_an_address_in_another_bucket_goes_on()
    {
        using var limiter = ClientAddressLimiter.PerSecond(perSecond: 1, burst: 3);
        var flooder = IPAddress.Parse("203.0.113.7");
        var other = Enumerable.Range(1, 255).Select(i => IPAddress.Parse($"198.51.100.{i}"))
            .First(a => ClientAddressLimiter.BucketOf(a) != ClientAddressLimiter.BucketOf(flooder));

        Assert.Null(limiter.WaitIfExhausted(flooder));
        Assert.All(Enumerable.Range(0, 3), _ => Assert.Null(limiter.TryAcquire(flooder)));
        var wait = limiter.TryAcquire(flooder);

        Assert.NotNull(wait);
        Assert.InRange(wait.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(2));
        Assert.NotNull(limiter.WaitIfExhausted(flooder));
        Assert.Null(limiter.WaitIfExhausted(other));
        Assert.Null(limiter.TryAcquire(other));
    }

    [Fact]
    public void An_IPv4_address_and_its_IPv6_mapped_form_share_a_bucket()
    {
        var address = IPAddress.Parse("192.0.2.10");
        Assert.Equal(ClientAddressLimiter.BucketOf(address), ClientAddressLimiter.BucketOf(address.MapToIPv6()));
    }

    [Fact]
    public void However_many_addresses_are_sprayed_there_are_never_more_buckets_than_the_bound()
    {
        var buckets = new HashSet<int>();
        var bytes = new byte[16];
        var random = new Random(7);
        for (var i = 0; i < 200_000; i++)
        {
            random.NextBytes(bytes);
            buckets.Add(ClientAddressLimiter.BucketOf(new IPAddress(bytes)));
        }

        buckets.Add(ClientAddressLimiter.BucketOf(null));
        Assert.All(buckets, b => Assert.InRange(b, 0, ClientAddressLimiter.Buckets - 1));
        Assert.True(buckets.Count <= ClientAddressLimiter.Buckets);
    }
}
