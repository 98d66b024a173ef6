using System.Net;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Hardening;

[Collection(PipelineCollection.Name)]
public sealed class RateLimitTests(TestServices services)
{
    [Fact]
    public async Task A_provider_over_its_rate_gets_429_with_Retry_After_and_nothing_is_recorded_for_it()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            IngressEnvironment =
            {
                ["Ingress__RateLimit__Providers__e2b__PerSecond"] = "1",
                ["Ingress__RateLimit__Providers__e2b__Burst"] = "2",
            },
        });

        // At once, so the bucket cannot refill between them however slow each request is.
        var statuses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            pipeline.PostE2bAsync(E2bEvents.V2("create", $"sbx-rate-{i}", DateTime.UtcNow))));

        var limited = statuses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.InRange(statuses.Count(r => r.StatusCode == HttpStatusCode.OK), 2, 5);
        Assert.Equal(statuses.Length, statuses.Count(r => r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests));
        Assert.All(limited, r => Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1)));
        Assert.Equal(statuses.Length - limited.Count, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        Assert.Contains("pipeline_webhooks_rejected_total{provider=\"e2b\",status=\"429\",reason=\"rate limited\"}",
            await pipeline.IngressManagement.GetStringAsync("metrics"));
    }

    [Fact]
    public async Task Forged_requests_never_use_up_the_providers_rate()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            IngressEnvironment =
            {
                ["Ingress__RateLimit__Providers__e2b__PerSecond"] = "1",
                ["Ingress__RateLimit__Providers__e2b__Burst"] = "5",
            },
        });

        var forger = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        for (var i = 0; i < 8; i++)
        {
            var forged = await pipeline.PostE2bAsync(E2bEvents.V2("kill", $"sbx-forged-{i}", DateTime.UtcNow), secret: forger);
            Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        }

        var genuine = await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-genuine", DateTime.UtcNow));
        Assert.Equal(HttpStatusCode.OK, genuine.StatusCode);
        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
    }

    [Fact]
    public async Task A_flood_of_forgeries_from_one_address_gets_429_while_its_genuine_deliveries_go_through()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            IngressEnvironment =
            {
                ["Ingress__RateLimit__FailedVerificationsPerSecond"] = "1",
                ["Ingress__RateLimit__FailedVerificationsBurst"] = "3",
            },
        });

        var forger = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));
        var statuses = new List<HttpResponseMessage>();
        var flood = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            statuses.Add(await pipeline.PostE2bAsync(E2bEvents.V2("kill", $"sbx-flood-{i}", DateTime.UtcNow), secret: forger));
        }

        // The burst of 3, then one more for each second the flood took.
        var answeredAtAll = 3 + (int)Math.Ceiling(flood.Elapsed.TotalSeconds);
        Assert.All(statuses.Take(3), r => Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode));
        Assert.All(statuses, r => Assert.Contains(r.StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }));
        var limited = statuses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.True(statuses.Count - limited.Count <= answeredAtAll,
            $"{statuses.Count - limited.Count} of 20 forgeries in {flood.Elapsed.TotalSeconds:F1} s were checked (at most {answeredAtAll} expected)");
        Assert.All(limited, r => Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1)));

        var genuine = await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-after-flood", DateTime.UtcNow));
        Assert.Equal(HttpStatusCode.OK, genuine.StatusCode);
        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        Assert.Contains("pipeline_webhooks_rejected_total{provider=\"e2b\",status=\"429\",reason=\"too many failed verifications\"}",
            await pipeline.IngressManagement.GetStringAsync("metrics"));
    }

    [Fact]
    public async Task A_replayed_genuine_request_is_a_duplicate_charged_to_its_address_never_to_the_providers_rate()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            IngressEnvironment =
            {
                ["Ingress__RateLimit__Providers__e2b__PerSecond"] = "1",
                ["Ingress__RateLimit__Providers__e2b__Burst"] = "3",
                ["Ingress__RateLimit__RepeatsPerSecond"] = "1",
                ["Ingress__RateLimit__RepeatsBurst"] = "5",
            },
        });

        // One genuine request, captured and sent again and again: each copy verifies.
        var captured = E2bEvents.V2("create", "sbx-captured", DateTime.UtcNow);
        Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(captured)).StatusCode);
        var replays = new List<HttpResponseMessage>();
        var flood = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            replays.Add(await pipeline.PostE2bAsync(captured));
        }

        // Duplicates within the address's repeats (a burst of 5, one more a second), then 429.
        var answered = replays.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
        Assert.InRange(answered.Count, 5, 5 + (int)Math.Ceiling(flood.Elapsed.TotalSeconds));
        Assert.All(replays.Except(answered), r => Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode));

        // The provider's bucket (3) was charged once, for the original: two new events still go through.
        foreach (var id in new[] { "sbx-new-1", "sbx-new-2" })
        {
            Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.V2("create", id, DateTime.UtcNow))).StatusCode);
        }

        Assert.Equal(3, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        var metrics = await pipeline.IngressManagement.GetStringAsync("metrics");
        Assert.Contains("pipeline_webhooks_rejected_total{provider=\"e2b\",status=\"429\",reason=\"too many repeats\"}", metrics);
        Assert.Contains($"pipeline_webhooks_accepted_total{{provider=\"e2b\",outcome=\"duplicate\"}} {answered.Count}", metrics);
        Assert.DoesNotContain("reason=\"rate limited\"", metrics);
    }
}
