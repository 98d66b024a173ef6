using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Hardening;

/// <summary>
/// Wrong admin keys are counted by reason, and an address that sends too many is held off with 429: the connection's
/// address, or behind a configured proxy the client it names.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class AdminKeyThrottleTests(TestServices services)
{
    [Fact]
    public async Task Failed_admin_attempts_are_counted_and_past_the_limit_the_address_gets_429_even_with_the_key()
    {
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [],
            IngressEnvironment = { ["ADMIN_API_KEY"] = key, ["Admin__FailedAttemptsPerMinute"] = "3" },
        });
        var http = pipeline.IngressHttp;

        Assert.Equal(HttpStatusCode.OK, (await GetOutboxAsync(http, key)).StatusCode);
        var guesses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            // Never equal to the key: it is lower-case hex, and each guess ends in a letter beyond f.
            guesses.Add((await GetOutboxAsync(http, key[..^1] + (char)('g' + i))).StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized], guesses.Take(3));
        Assert.All(guesses.Skip(3), s => Assert.Equal(HttpStatusCode.TooManyRequests, s));
        using var withKey = await GetOutboxAsync(http, key);
        Assert.Equal(HttpStatusCode.TooManyRequests, withKey.StatusCode);
        Assert.True(withKey.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
        // No proxy is configured: a client cannot name another address to count against.
        using var claimingAnother = await GetOutboxAsync(http, key, forwardedFor: "198.51.100.9");
        Assert.Equal(HttpStatusCode.TooManyRequests, claimingAnother.StatusCode);

        var metrics = await pipeline.IngressManagement.GetStringAsync("metrics");
        Assert.Contains("pipeline_admin_refused_total{reason=\"wrong bearer key\"} 3", metrics);
        Assert.Contains("pipeline_admin_refused_total{reason=\"too many failed attempts\"} 5", metrics);
    }

    [Fact]
    public async Task Behind_a_configured_proxy_a_guesser_holds_off_only_itself()
    {
        var key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [],
            IngressEnvironment =
            {
                ["ADMIN_API_KEY"] = key,
                ["Admin__FailedAttemptsPerMinute"] = "3",
                // The test client plays the proxy: every request comes from 127.0.0.1.
                ["ForwardedHeaders__KnownProxies__0"] = "127.0.0.1",
            },
        });
        var http = pipeline.IngressHttp;
        const string guesser = "203.0.113.7", operatorAddress = "198.51.100.9";

        var guesses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            guesses.Add((await GetOutboxAsync(http, key[..^1] + (char)('g' + i), forwardedFor: guesser)).StatusCode);
        }

        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], guesses);
        Assert.Equal(HttpStatusCode.OK, (await GetOutboxAsync(http, key, forwardedFor: operatorAddress)).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await GetOutboxAsync(http, key, forwardedFor: guesser)).StatusCode);
        // The proxy's own address (a request that names no client) was never charged.
        Assert.Equal(HttpStatusCode.OK, (await GetOutboxAsync(http, key)).StatusCode);
    }

    private static Task<HttpResponseMessage> GetOutboxAsync(HttpClient http, string key, string? forwardedFor = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "api/admin/outbox");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        if (forwardedFor is not null)
        {
            request.Headers.Add("X-Forwarded-For", forwardedFor);
        }

        return http.SendAsync(request);
    }
}
