using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Pipeline.Ingress.Providers.Generic;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.IntegrationTests.Interop;

namespace Pipeline.IntegrationTests.Deliveries;

/// <summary>
/// Outbound webhooks end to end on real RabbitMQ and PostgreSQL: an E2B webhook into Ingress comes out of the Deliveries
/// service as signed POSTs to receivers on 127.0.0.1, verified by the npm <c>standardwebhooks</c> library and by the
/// seed's sha256= check; failures are retried under the same webhook-id.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class DeliveryPipelineTests(TestServices services)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static TopologyOptions Topology(string adminKey, bool allowPrivateNetworks = true, Dictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["ADMIN_API_KEY"] = adminKey,
            ["Deliveries__AllowPrivateNetworks"] = allowPrivateNetworks ? "true" : "false",
            ["Deliveries__AllowHttp"] = "true",
            // Immediately, then after 1 s and 1 s: a failing receiver is retried within the test's patience.
            ["Deliveries__RetrySchedule__0"] = "00:00:00",
            ["Deliveries__RetrySchedule__1"] = "00:00:01",
            ["Deliveries__RetrySchedule__2"] = "00:00:01",
        };
        foreach (var (key, value) in extra ?? [])
        {
            environment[key] = value;
        }

        return new TopologyOptions { Consumers = [ConsumerService.Deliveries], ConsumerEnvironment = environment };
    }

    public static string NewAdminKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    [Fact]
    public async Task An_E2B_event_reaches_every_subscribed_endpoint_signed_as_it_asked_and_no_other()
    {
        var adminKey = NewAdminKey();
        await using var pipeline = await PipelineTopology.StartAsync(services, Topology(adminKey));
        await using var standard = new WebhookReceiver();
        await using var seed = new WebhookReceiver();
        await using var credits = new WebhookReceiver();
        var api = new DeliveriesClient(pipeline, adminKey);
        var a = await api.CreateAsync(standard.Url, ["sandbox.*"], headers: new() { ["Authorization"] = "Bearer receiver-token" });
        var b = await api.CreateAsync(seed.Url, ["*"], scheme: "hmac-sha256");
        var c = await api.CreateAsync(credits.Url, ["credits.*"]);

        var response = await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-out-1", DateTime.UtcNow));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var toStandard = (await standard.WaitForAsync(1, pipeline.Diagnostics)).Single();
        var toSeed = (await seed.WaitForAsync(1, pipeline.Diagnostics)).Single();

        // The envelope of seed 004, the same bytes to both, under the id that is also the webhook-id.
        Assert.Equal(toStandard.Body, toSeed.Body);
        var envelope = JsonDocument.Parse(toStandard.Body).RootElement;
        Assert.Equal("sandbox.created", envelope.GetProperty("event_type").GetString());
        Assert.Equal("sbx-out-1", envelope.GetProperty("data").GetProperty("sandbox_id").GetString());
        Assert.Equal("e2b", envelope.GetProperty("source").GetString());
        Assert.Equal(envelope.GetProperty("id").GetString(), toStandard.Header("webhook-id"));
        Assert.StartsWith("Pipeline-Webhooks/", toStandard.Header("User-Agent"));
        Assert.Equal("Bearer receiver-token", toStandard.Header("Authorization"));
        Assert.StartsWith("application/json", toStandard.Header("Content-Type"));

        // Standard Webhooks, checked by the scheme's own npm library: the genuine body passes, a tampered one fails.
        var headers = new Dictionary<string, string>
        {
            ["webhook-id"] = toStandard.Header("webhook-id"),
            ["webhook-timestamp"] = toStandard.Header("webhook-timestamp"),
            ["webhook-signature"] = toStandard.Header("webhook-signature"),
        };
        var verified = await StandardWebhooksNode.VerifyAsync(a.Secret, [(toStandard.Body, headers), (toStandard.Body.Replace("sbx-out-1", "sbx-out-2"), headers)]);
        Assert.True(verified[0].Ok, verified[0].Error);
        Assert.False(verified[1].Ok);

        // The seed's scheme, checked by the seed's receiver logic (Ingress's hmac-sha256 verifier).
        Assert.Equal("sandbox.created", toSeed.Header("X-Webhook-Event"));
        Assert.True(Guid.TryParse(toSeed.Header("X-Webhook-Delivery"), out _));
        var seedHeaders = new HeaderDictionary
        {
            ["X-Webhook-Signature"] = toSeed.Header("X-Webhook-Signature"),
            ["X-Webhook-Timestamp"] = toSeed.Header("X-Webhook-Timestamp"),
        };
        Assert.True(HmacSha256Verifier.Verify(Encoding.UTF8.GetBytes(toSeed.Body), seedHeaders, [b.Secret], DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)).IsValid);
        Assert.False(HmacSha256Verifier.Verify(Encoding.UTF8.GetBytes(toSeed.Body + " "), seedHeaders, [b.Secret], DateTimeOffset.UtcNow, TimeSpan.FromMinutes(5)).IsValid);

        await Eventually.WaitAsync(async () => await api.CountAsync($"SELECT count(*) FROM webhook_deliveries WHERE \"Status\" = 'delivered'"),
            n => n == 2, Deadline, "both deliveries to be recorded as delivered", pipeline.Diagnostics);
        Assert.Equal(("delivered", 1), await api.DeliveryAsync(a.Id));
        Assert.Equal(0, await api.CountAsync($"SELECT count(*) FROM webhook_deliveries WHERE \"EndpointId\" = '{c.Id}'"));
        Assert.Equal(2, await api.CountAsync("SELECT count(*) FROM webhook_delivery_attempts WHERE \"Succeeded\" AND \"StatusCode\" = 200"));
        Assert.Empty(credits.Received);

        // The same webhook again (E2B retries): Ingress answers 200, no second event goes out.
        var duplicate = await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-out-1", DateTime.UtcNow, id: envelope.GetProperty("data").GetProperty("e2b_event_id").GetString()));
        Assert.Equal(HttpStatusCode.OK, duplicate.StatusCode);
        await pipeline.PostE2bAsync(E2bEvents.V2("kill", "sbx-out-1", DateTime.UtcNow));
        var afterKill = await standard.WaitForAsync(2, pipeline.Diagnostics);
        Assert.Equal("sandbox.killed", JsonDocument.Parse(afterKill[1].Body).RootElement.GetProperty("event_type").GetString());
        Assert.Equal(1, await api.CountAsync("SELECT count(*) FROM webhook_events WHERE \"EventType\" = 'sandbox.created'"));
    }

    [Fact]
    public async Task A_failing_receiver_gets_the_event_again_under_the_same_webhook_id_until_it_succeeds_or_the_schedule_ends()
    {
        var adminKey = NewAdminKey();
        await using var pipeline = await PipelineTopology.StartAsync(services, Topology(adminKey));
        await using var flaky = new WebhookReceiver { Respond = n => n == 1 ? 500 : 200 };
        await using var dead = new WebhookReceiver { Respond = _ => 503 };
        await using var gone = new WebhookReceiver { Respond = _ => 410 };
        var api = new DeliveriesClient(pipeline, adminKey);
        var flakyEndpoint = await api.CreateAsync(flaky.Url, ["sandbox.*"]);
        var deadEndpoint = await api.CreateAsync(dead.Url, ["sandbox.created"]);
        var goneEndpoint = await api.CreateAsync(gone.Url, ["sandbox.*"]);

        await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-retry-1", DateTime.UtcNow));

        // 500, then 200: the same event twice under one webhook-id, each attempt freshly timestamped and signed.
        var attempts = await flaky.WaitForAsync(2, pipeline.Diagnostics);
        Assert.Equal(attempts[0].Header("webhook-id"), attempts[1].Header("webhook-id"));
        Assert.Equal(attempts[0].Body, attempts[1].Body);
        var verified = await StandardWebhooksNode.VerifyAsync(flakyEndpoint.Secret, attempts.Select(r => (r.Body, (IReadOnlyDictionary<string, string>)new Dictionary<string, string>
        {
            ["webhook-id"] = r.Header("webhook-id"),
            ["webhook-timestamp"] = r.Header("webhook-timestamp"),
            ["webhook-signature"] = r.Header("webhook-signature"),
        })));
        Assert.All(verified, v => Assert.True(v.Ok, v.Error));
        await Eventually.WaitAsync(() => api.DeliveryAsync(flakyEndpoint.Id), d => d == ("delivered", 2), Deadline,
            "the flaky receiver's delivery to be delivered on its second attempt", pipeline.Diagnostics);
        Assert.Equal([500, 200], await StatusesAsync(pipeline, flakyEndpoint.Id));

        // Always 503: failed after the schedule's three attempts, and stays there.
        await Eventually.WaitAsync(() => api.DeliveryAsync(deadEndpoint.Id), d => d == ("failed", 3), Deadline,
            "the dead receiver's delivery to fail after three attempts", pipeline.Diagnostics);
        Assert.Equal(3, dead.Received.Count);
        Assert.Single(dead.Received.Select(r => r.Header("webhook-id")).Distinct());

        // 410 Gone: failed at once and the endpoint disabled; later events are kept for it as skipped, not sent.
        await Eventually.WaitAsync(() => api.DeliveryAsync(goneEndpoint.Id), d => d == ("failed", 1), Deadline,
            "the gone receiver's delivery to fail at once", pipeline.Diagnostics);
        var shown = await api.GetAsync($"api/endpoints/{goneEndpoint.Id}");
        Assert.False(shown.GetProperty("enabled").GetBoolean());
        Assert.Contains("410", shown.GetProperty("disabledReason").GetString());
        await pipeline.PostE2bAsync(E2bEvents.V2("kill", "sbx-retry-1", DateTime.UtcNow));
        var third = (await flaky.WaitForAsync(3, pipeline.Diagnostics))[2];
        Assert.Equal("sandbox.killed", JsonDocument.Parse(third.Body).RootElement.GetProperty("event_type").GetString());
        Assert.Single(gone.Received);
        Assert.Equal(1, await api.CountAsync(
            $"SELECT count(*) FROM webhook_deliveries WHERE \"EndpointId\" = '{goneEndpoint.Id}' AND \"EventType\" = 'sandbox.killed' AND \"Status\" = 'skipped'"));
    }

    private static async Task<List<int>> StatusesAsync(PipelineTopology pipeline, Guid endpointId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(pipeline.DatabaseOf("Deliveries"));
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            $"SELECT \"StatusCode\" FROM webhook_delivery_attempts WHERE \"EndpointId\" = '{endpointId}' ORDER BY \"Number\"", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var statuses = new List<int>();
        while (await reader.ReadAsync())
        {
            statuses.Add(reader.GetInt32(0));
        }

        return statuses;
    }
}
