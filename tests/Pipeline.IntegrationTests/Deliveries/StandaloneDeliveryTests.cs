using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.IntegrationTests.Interop;

namespace Pipeline.IntegrationTests.Deliveries;

/// <summary>The embedded mode (SQLite, in-memory bus) sends outbound webhooks too, to loopback receivers out of the box.</summary>
public sealed class StandaloneDeliveryTests
{
    /// <summary>Standalone with its SQLite files in <paramref name="data"/>, an admin key and an E2B secret.</summary>
    public static Dictionary<string, string> Environment(string data, string adminKey, string e2bSecret) => new()
    {
        ["ConnectionStrings__Ingress"] = $"Data Source={data}/ingress.db",
        ["ConnectionStrings__Sandboxes"] = $"Data Source={data}/sandboxes.db",
        ["ConnectionStrings__Credits"] = $"Data Source={data}/credits.db",
        ["ConnectionStrings__Rooms"] = $"Data Source={data}/rooms.db",
        ["ConnectionStrings__Deliveries"] = $"Data Source={data}/deliveries.db",
        ["ADMIN_API_KEY"] = adminKey,
        ["E2B_WEBHOOK_SECRET"] = e2bSecret,
    };

    [Fact]
    public async Task Standalone_delivers_signed_events_to_loopback_endpoints_as_the_readme_shows()
    {
        var data = Directory.CreateTempSubdirectory("pipeline-standalone-deliveries-");
        var adminKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var e2bSecret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        try
        {
            await using var host = new HostProcess("standalone-deliveries", "Standalone", "Pipeline.Standalone", Environment(data.FullName, adminKey, e2bSecret));
            await host.StartAsync();
            Assert.Contains("Deliveries:AllowPrivateNetworks is true", host.FullOutput());
            await using var receiver = new WebhookReceiver();
            using var http = new HttpClient { BaseAddress = host.BaseAddress };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);

            var created = await http.PostAsJsonAsync("api/endpoints", new { url = receiver.Url, eventTypes = new[] { "sandbox.*" } });
            var endpoint = await created.Content.ReadFromJsonAsync<JsonElement>();
            Assert.True(created.StatusCode == HttpStatusCode.Created, endpoint.ToString());
            var secret = endpoint.GetProperty("secret").GetString()!;

            var body = E2bEvents.Seed("create", "sbx-standalone-1", DateTime.UtcNow);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(E2bEvents.SignedRequest(body, e2bSecret, "webhooks/e2b"))).StatusCode);

            var request = (await receiver.WaitForAsync(1, host.RecentOutput)).Single();
            Assert.Equal("sandbox.created", JsonDocument.Parse(request.Body).RootElement.GetProperty("event_type").GetString());
            var verified = await StandardWebhooksNode.VerifyAsync(secret, [(request.Body, new Dictionary<string, string>
            {
                ["webhook-id"] = request.Header("webhook-id"),
                ["webhook-timestamp"] = request.Header("webhook-timestamp"),
                ["webhook-signature"] = request.Header("webhook-signature"),
            })]);
            Assert.True(verified[0].Ok, verified[0].Error);
            await Eventually.WaitAsync(() => Task.FromResult(host.FullOutput().Contains("Delivered sandbox.created", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(30), "the delivery to be recorded", host.RecentOutput);

            // The README's three commands: a listener that registers itself and checks signatures, then send-test.
            var environment = new Dictionary<string, string>
            {
                ["ADMIN_API_KEY"] = adminKey,
                ["E2B_WEBHOOK_SECRET"] = e2bSecret,
                ["PIPELINE_DELIVERIES_URL"] = host.BaseAddress.ToString(),
                ["PIPELINE_INGRESS_URL"] = host.BaseAddress.ToString(),
            };
            var listen = PipelineTopology.RunOpsProcessAsync(environment, ["endpoints", "listen", "--port", FreePort.Next().ToString(), "--events", "sandbox.*", "--count", "1"]);
            await Eventually.WaitAsync(async () => (await http.GetStringAsync("api/endpoints")).Contains("pipeline-ops endpoints listen", StringComparison.Ordinal),
                TimeSpan.FromSeconds(60), "the listener to register", host.RecentOutput);
            var sent = await PipelineTopology.RunOpsProcessAsync(environment, ["send-test", "e2b", "create"]);
            Assert.True(sent.ExitCode == 0, sent.Error + sent.Output);
            var (code, output, error) = await listen;
            Assert.True(code == 0, error + output);
            Assert.Contains("signature OK", output);
            Assert.Contains("\"event_type\":\"sandbox.created\"", output);
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }
}
