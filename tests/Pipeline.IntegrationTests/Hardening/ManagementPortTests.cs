using System.Net;
using System.Net.Http.Headers;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Hardening;

/// <summary>
/// /metrics and /health/ready (which names the broker's host and port and carries exception text) answer only on each
/// service's management port; the public port, where webhooks arrive, keeps webhooks, APIs and /health/live.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ManagementPortTests(TestServices services)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly HttpClient Anonymous = new();

    [Fact]
    public async Task Metrics_and_readiness_answer_only_on_the_management_port_which_serves_nothing_else()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services);
        Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-management-1", DateTime.UtcNow))).StatusCode);
        await Eventually.WaitAsync(() => pipeline.GetSandboxAsync("sbx-management-1"), s => s is not null, Deadline, "the sandbox", pipeline.Diagnostics);

        foreach (var host in new[] { pipeline.Ingress, pipeline.Sandboxes })
        {
            // The public port: no metrics, no readiness, however the path is spelt or whatever Host the client claims.
            foreach (var path in new[] { "metrics", "metrics/", "METRICS", "health/ready", "health/ready/", "Health/Ready" })
            {
                var status = await StatusAsync(new Uri(host.BaseAddress, path));
                Assert.True(status == HttpStatusCode.NotFound, $"{host.BaseAddress}{path} answered {(int)status} on the public port");
            }

            foreach (var path in new[] { "metrics", "health/ready" })
            {
                Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(new Uri(host.BaseAddress, path), host: $"127.0.0.1:{host.ManagementPort}"));
            }

            Assert.Equal(HttpStatusCode.OK, await StatusAsync(new Uri(host.BaseAddress, "health/live")));

            // The management port: metrics, readiness and liveness.
            var metrics = await Anonymous.GetStringAsync(new Uri(host.ManagementAddress, "metrics"));
            Assert.Contains("process_cpu_seconds_total", metrics);
            var ready = await Anonymous.GetStringAsync(new Uri(host.ManagementAddress, "health/ready"));
            Assert.Contains("\"status\":\"Healthy\"", ready);
            Assert.Equal(HttpStatusCode.OK, await StatusAsync(new Uri(host.ManagementAddress, "health/live")));
        }

        // Nothing else on the management port: no webhook, no API, even with the right credentials.
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(new Uri(pipeline.Sandboxes.BaseAddress, "api/sandboxes"), bearer: pipeline.ReadKey));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(new Uri(pipeline.Sandboxes.ManagementAddress, "api/sandboxes"), bearer: pipeline.ReadKey));
        Assert.Equal(HttpStatusCode.NotFound, await StatusAsync(new Uri(pipeline.Ingress.ManagementAddress, "api/webhooks/health")));
        using (var toManagement = E2bEvents.SignedRequest(E2bEvents.V2("create", "sbx-management-2", DateTime.UtcNow), pipeline.Secret,
                   new Uri(pipeline.Ingress.ManagementAddress, "webhooks/e2b").ToString()))
        using (var refused = await Anonymous.SendAsync(toManagement))
        {
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }

        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));

        // With the broker away, readiness says where it was looked for and why it failed: on the management port only.
        pipeline.BrokerProxy.Cut();
        var brokerAddress = $"127.0.0.1:{pipeline.BrokerProxy.Port}";
        var degraded = await Eventually.WaitAsync(() => Anonymous.GetStringAsync(new Uri(pipeline.Ingress.ManagementAddress, "health/ready")),
            r => r.Contains("\"Degraded\"", StringComparison.Ordinal), Deadline, "readiness to show the broker outage", pipeline.Diagnostics);
        Assert.Contains(brokerAddress, degraded);
        using var publicReady = await Anonymous.GetAsync(new Uri(pipeline.Ingress.BaseAddress, "health/ready"));
        Assert.Equal(HttpStatusCode.NotFound, publicReady.StatusCode);
        var publicBody = await publicReady.Content.ReadAsStringAsync();
        Assert.DoesNotContain(brokerAddress, publicBody);
        Assert.DoesNotContain("Degraded", publicBody);
        pipeline.BrokerProxy.Restore();
    }

    private static async Task<HttpStatusCode> StatusAsync(Uri uri, string? host = null, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        using var response = await Anonymous.SendAsync(request);
        return response.StatusCode;
    }
}
