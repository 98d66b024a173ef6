using Microsoft.Extensions.Options;
using Pipeline.Ingress.Webhooks;

namespace Pipeline.UnitTests.Ingress;

public class WebhookRateLimiterTests
{
    private sealed class FixedOptions(RateLimitOptions value) : IOptionsMonitor<RateLimitOptions>
    {
        public RateLimitOptions CurrentValue => value;
        public RateLimitOptions Get(string? name) => value;
        public IDisposable? OnChange(Action<RateLimitOptions, string?> listener) => null;
    }

    [Fact]
    public void A_provider_past_its_burst_is_told_to_wait_while_others_go_on()
    {
        using var limiter = new WebhookRateLimiter(new FixedOptions(new RateLimitOptions { PerSecond = 1, Burst = 3 }));

        Assert.All(Enumerable.Range(0, 3), _ => Assert.Null(limiter.TryAcquire("e2b")));
        var wait = limiter.TryAcquire("e2b");

        Assert.NotNull(wait);
        Assert.InRange(wait.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(2));
        Assert.Null(limiter.TryAcquire("livekit")); // its own bucket
    }

    [Fact]
    public void A_provider_override_replaces_the_default_rate()
    {
        var options = new RateLimitOptions { PerSecond = 1, Burst = 1 };
        options.Providers["new-api"] = new RateLimitOptions.ProviderRate { PerSecond = 100, Burst = 50 };
        using var limiter = new WebhookRateLimiter(new FixedOptions(options));

        Assert.All(Enumerable.Range(0, 50), _ => Assert.Null(limiter.TryAcquire("new-api")));
        Assert.NotNull(limiter.TryAcquire("new-api"));
        Assert.Null(limiter.TryAcquire("e2b"));
        Assert.NotNull(limiter.TryAcquire("e2b"));
    }
}
