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
    [Fact]
    public async Task Standalone_delivers_a_signed_event_to_a_loopback_endpoint_registered_through_its_api()
    {
        var data = Directory.CreateTempSubdirectory("pipeline-standalone-deliveries-");
        var adminKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var e2bSecret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        try
        {
            await using var host = new HostProcess("standalone-deliveries", "Standalone", "Pipeline.Standalone", new Dictionary<string, string>
            {
                ["ConnectionStrings__Ingress"] = $"Data Source={data.FullName}/ingress.db",
                ["ConnectionStrings__Sandboxes"] = $"Data Source={data.FullName}/sandboxes.db",
                ["ConnectionStrings__Credits"] = $"Data Source={data.FullName}/credits.db",
                ["ConnectionStrings__Rooms"] = $"Data Source={data.FullName}/rooms.db",
                ["ConnectionStrings__Deliveries"] = $"Data Source={data.FullName}/deliveries.db",
                ["ADMIN_API_KEY"] = adminKey,
                ["E2B_WEBHOOK_SECRET"] = e2bSecret,
            });
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
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }
}
