using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.IntegrationTests.Interop;

namespace Pipeline.IntegrationTests.Deliveries;

/// <summary>The endpoints API of the Deliveries host: the admin key, validation, changes, rotation and the test event.</summary>
[Collection(PipelineCollection.Name)]
public sealed class EndpointsApiTests(TestServices services)
{
    [Fact]
    public async Task Past_the_configured_number_of_endpoints_a_new_one_is_refused_with_409_until_one_is_deleted()
    {
        var adminKey = DeliveryPipelineTests.NewAdminKey();
        await using var pipeline = await PipelineTopology.StartAsync(services, DeliveryPipelineTests.Topology(adminKey, extra: new() { ["Deliveries__MaxEndpoints"] = "2" }));
        var api = new DeliveriesClient(pipeline, adminKey);
        var first = await api.CreateAsync("http://127.0.0.1:9/first", ["*"]);
        await api.CreateAsync("http://127.0.0.1:9/second", ["*"]);
        await api.PostAsync($"api/endpoints/{first.Id}/disable"); // a disabled one counts too

        var refused = await api.Http.PostAsJsonAsync("api/endpoints", new { url = "http://127.0.0.1:9/third", eventTypes = new[] { "*" } });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var error = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("too_many_endpoints", error.GetProperty("error").GetString());
        Assert.Contains("Deliveries:MaxEndpoints", error.GetProperty("message").GetString());
        Assert.Equal(2, (await api.GetAsync("api/endpoints")).GetArrayLength());

        Assert.Equal(HttpStatusCode.NoContent, (await api.Http.DeleteAsync($"api/endpoints/{first.Id}")).StatusCode);
        await api.CreateAsync("http://127.0.0.1:9/third", ["*"]);
    }

    [Fact]
    public async Task Endpoints_are_registered_changed_rotated_tested_and_deleted_by_the_admin_only()
    {
        var adminKey = DeliveryPipelineTests.NewAdminKey();
        await using var pipeline = await PipelineTopology.StartAsync(services, DeliveryPipelineTests.Topology(adminKey));
        await using var receiver = new WebhookReceiver();
        var api = new DeliveriesClient(pipeline, adminKey);
        using var anonymous = new HttpClient { BaseAddress = api.Http.BaseAddress };

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/endpoints")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("api/endpoints", new { url = receiver.Url, eventTypes = new[] { "*" } })).StatusCode);

        // A read key lists and shows, but changes nothing.
        using var reader = new HttpClient { BaseAddress = api.Http.BaseAddress };
        reader.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", pipeline.ReadKey);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("api/endpoints")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync("api/webhooks/stats")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await reader.PostAsJsonAsync("api/endpoints", new { url = receiver.Url, eventTypes = new[] { "*" } })).StatusCode);

        // Unknown event types: 400 that lists the catalogue.
        var invalid = await api.Http.PostAsJsonAsync("api/endpoints", new { url = receiver.Url, eventTypes = new[] { "sandbox.exploded" } });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var error = await invalid.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("'sandbox.exploded'", error.GetProperty("message").GetString());
        Assert.Contains("credits.topped_up", error.GetProperty("knownEventTypes").EnumerateArray().Select(t => t.GetString()));

        // Created: the secret is shown here and nowhere else.
        var endpoint = await api.CreateAsync(receiver.Url, ["room.*", "credits.exhausted"], headers: new() { ["X-Tenant"] = "acme" });
        Assert.Matches("^whsec_[A-Za-z0-9+/]{43}=$", endpoint.Secret);
        var shown = await api.GetAsync($"api/endpoints/{endpoint.Id}");
        var listed = await api.GetAsync("api/endpoints");
        Assert.False(shown.TryGetProperty("secret", out _));
        Assert.DoesNotContain(endpoint.Secret, listed.GetRawText());
        Assert.Equal("(hidden)", shown.GetProperty("headers").GetProperty("X-Tenant").GetString());
        Assert.Equal(["room.*", "credits.exhausted"], shown.GetProperty("eventTypes").EnumerateArray().Select(t => t.GetString()));
        Assert.DoesNotContain(endpoint.Secret, pipeline.Consumers[ConsumerService.Deliveries].FullOutput());

        // Changed: what is given replaces, the rest stays.
        var patched = await api.Http.PatchAsJsonAsync($"api/endpoints/{endpoint.Id}", new { eventTypes = new[] { "*" }, description = "all of it" });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        shown = await api.GetAsync($"api/endpoints/{endpoint.Id}");
        Assert.Equal(["*"], shown.GetProperty("eventTypes").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("all of it", shown.GetProperty("description").GetString());
        Assert.Equal(receiver.Url, shown.GetProperty("url").GetString());

        // Rotated: during the overlap every delivery is signed with both secrets, and either verifies.
        var rotated = await api.PostAsync($"api/endpoints/{endpoint.Id}/rotate-secret");
        var newSecret = rotated.GetProperty("secret").GetString()!;
        Assert.NotEqual(endpoint.Secret, newSecret);
        Assert.True(rotated.GetProperty("previousSecretExpiresAt").GetDateTime() > DateTime.UtcNow.AddHours(23));

        var test = await api.PostAsync($"api/endpoints/{endpoint.Id}/test");
        var request = (await receiver.WaitForAsync(1, pipeline.Diagnostics)).Single();
        var envelope = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("webhook.test", envelope.GetProperty("event_type").GetString());
        Assert.Equal(test.GetProperty("eventId").GetString(), request.Header("webhook-id"));
        Assert.Equal(2, request.Header("webhook-signature").Split(' ').Length);
        var headers = new Dictionary<string, string>
        {
            ["webhook-id"] = request.Header("webhook-id"),
            ["webhook-timestamp"] = request.Header("webhook-timestamp"),
            ["webhook-signature"] = request.Header("webhook-signature"),
        };
        Assert.All(await StandardWebhooksNode.VerifyAsync(endpoint.Secret, [(request.Body, headers)]), v => Assert.True(v.Ok, v.Error));
        Assert.All(await StandardWebhooksNode.VerifyAsync(newSecret, [(request.Body, headers)]), v => Assert.True(v.Ok, v.Error));
        Assert.Equal("acme", request.Header("X-Tenant"));

        // Disabled: shown as such, and a test is refused; enabled again: it works.
        var disabled = await api.PostAsync($"api/endpoints/{endpoint.Id}/disable");
        Assert.False(disabled.GetProperty("enabled").GetBoolean());
        Assert.Equal(HttpStatusCode.Conflict, (await api.Http.PostAsync($"api/endpoints/{endpoint.Id}/test", null)).StatusCode);
        Assert.True((await api.PostAsync($"api/endpoints/{endpoint.Id}/enable")).GetProperty("enabled").GetBoolean());
        await api.PostAsync($"api/endpoints/{endpoint.Id}/test");
        await receiver.WaitForAsync(2, pipeline.Diagnostics);

        Assert.Equal(HttpStatusCode.Unauthorized, (await reader.PostAsync($"api/endpoints/{endpoint.Id}/disable", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await reader.DeleteAsync($"api/endpoints/{endpoint.Id}")).StatusCode);

        // Deleted: gone with its deliveries.
        Assert.Equal(HttpStatusCode.NoContent, (await api.Http.DeleteAsync($"api/endpoints/{endpoint.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await api.Http.GetAsync($"api/endpoints/{endpoint.Id}")).StatusCode);
        Assert.Equal(0, await api.CountAsync($"SELECT count(*) FROM webhook_deliveries WHERE \"EndpointId\" = '{endpoint.Id}'"));
    }
}
