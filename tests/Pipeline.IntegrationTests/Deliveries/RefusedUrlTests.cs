using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Deliveries;

/// <summary>
/// With private networks not allowed (the default), endpoint URLs that resolve to loopback, private, link-local or
/// metadata addresses are refused when registered, and again at connect time: a delivery to such an address fails
/// before any packet is sent. Only 127.0.0.1 is ever connected to here, and only when the test allows it.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class RefusedUrlTests(TestServices services)
{
    [Fact]
    public async Task Private_and_metadata_addresses_are_refused_at_registration_and_when_connecting()
    {
        var adminKey = DeliveryPipelineTests.NewAdminKey();
        // The settings file opens private networks for the registration of one loopback endpoint; closing it again
        // leaves that endpoint registered, which is what a DNS change after registration would do.
        var settings = Path.Combine(Path.GetTempPath(), $"deliveries-settings-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(settings, """{"Deliveries":{"AllowPrivateNetworks":true}}""");
        try
        {
            await using var pipeline = await PipelineTopology.StartAsync(services, DeliveryPipelineTests.Topology(adminKey, allowPrivateNetworks: false,
                new() { ["PIPELINE_SETTINGS_FILE"] = settings }));
            var api = new DeliveriesClient(pipeline, adminKey);
            var deliveries = pipeline.Consumers[ConsumerService.Deliveries];

            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var endpoint = await api.CreateAsync($"http://127.0.0.1:{port}/hooks", ["*"]);

            await File.WriteAllTextAsync(settings, """{"Deliveries":{"AllowPrivateNetworks":false}}""");
            await Eventually.WaitAsync(() => Task.FromResult(deliveries.FullOutput().Contains("private networks refused", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(30), "the Deliveries host to reload its settings", pipeline.Diagnostics);

            foreach (var (url, kind) in new[]
                     {
                         ("http://127.0.0.1:9/hooks", "loopback"),
                         ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
                         ("http://10.0.0.1/hooks", "private"),
                         ("http://[::1]:9/hooks", "loopback"),
                         ("http://localhost:9/hooks", "loopback"),
                     })
            {
                var response = await api.Http.PostAsJsonAsync("api/endpoints", new { url, eventTypes = new[] { "*" } });
                var body = await response.Content.ReadFromJsonAsync<JsonElement>();
                Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {response.StatusCode} {body}");
                Assert.Contains($"a {kind} address", body.GetProperty("message").GetString());
            }

            Assert.Equal(1, await api.CountAsync("SELECT count(*) FROM webhook_endpoints"));

            // The registered loopback endpoint: its test delivery is refused by the connect guard, never connected.
            await api.PostAsync($"api/endpoints/{endpoint.Id}/test");
            await Eventually.WaitAsync(
                () => pipeline.ScalarAsync<string>($"SELECT coalesce(max(\"Error\"), '') FROM webhook_delivery_attempts WHERE \"EndpointId\" = '{endpoint.Id}'", "Deliveries"),
                e => e.Length > 0, TimeSpan.FromSeconds(60), "the refused attempt to be recorded", pipeline.Diagnostics);
            var error = await pipeline.ScalarAsync<string>($"SELECT max(\"Error\") FROM webhook_delivery_attempts WHERE \"EndpointId\" = '{endpoint.Id}'", "Deliveries");
            Assert.StartsWith("Refused before connecting: 127.0.0.1 resolves to a loopback address", error);
            Assert.Equal(0, await api.CountAsync($"SELECT count(*) FROM webhook_delivery_attempts WHERE \"EndpointId\" = '{endpoint.Id}' AND \"StatusCode\" IS NOT NULL"));
            Assert.False(listener.Pending(), "the refused delivery opened a connection");
        }
        finally
        {
            File.Delete(settings);
        }
    }
}
