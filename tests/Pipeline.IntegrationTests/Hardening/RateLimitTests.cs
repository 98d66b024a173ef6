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

        var statuses = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add(await pipeline.PostE2bAsync(E2bEvents.V2("create", $"sbx-rate-{i}", DateTime.UtcNow)));
        }

        Assert.Equal(HttpStatusCode.OK, statuses[0].StatusCode);
        Assert.Equal(HttpStatusCode.OK, statuses[1].StatusCode);
        var limited = statuses.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        Assert.All(limited, r => Assert.True(r.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1)));
        Assert.Equal(4 - limited.Count, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        Assert.Contains("pipeline_webhooks_rejected_total{provider=\"e2b\",status=\"429\",reason=\"rate limited\"}",
            await pipeline.IngressManagement.GetStringAsync("metrics"));
    }
}
