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

    [Fact]
    public void Failed_verifications_are_charged_to_the_client_address_never_to_the_provider()
    {
        using var limiter = new WebhookRateLimiter(new FixedOptions(new RateLimitOptions
        {
            PerSecond = 1,
            Burst = 1,
            FailedVerificationsPerSecond = 1,
            FailedVerificationsBurst = 2,
        }));
        var forger = System.Net.IPAddress.Parse("203.0.113.9");

        Assert.Null(limiter.TryAcquireFailure(forger));
        Assert.Null(limiter.TryAcquireFailure(forger));
        Assert.NotNull(limiter.TryAcquireFailure(forger));

        Assert.Null(limiter.TryAcquire("e2b")); // the provider's one token is untouched by the failures
    }
}
