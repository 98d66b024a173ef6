using System.Net;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Deliveries;

/// <summary>
/// What operators do about deliveries that did not arrive: read every attempt, resend one, recover what an endpoint
/// missed (failed, or skipped while it was disabled), watch the ledger and the seed's monitoring paths.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class DeliveryRecoveryTests(TestServices services)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Failed_and_skipped_deliveries_are_resent_and_recovered_under_their_own_webhook_ids_and_the_ledger_balances()
    {
        var adminKey = DeliveryPipelineTests.NewAdminKey();
        await using var pipeline = await PipelineTopology.StartAsync(services, DeliveryPipelineTests.Topology(adminKey, extra: new()
        {
            ["Telemetry__GaugeRefreshInterval"] = "00:00:00.500",
        }));
        var healthy = false;
        await using var receiver = new WebhookReceiver { Respond = _ => Volatile.Read(ref healthy) ? 200 : 503 };
        var api = new DeliveriesClient(pipeline, adminKey);
        var endpoint = await api.CreateAsync(receiver.Url, ["sandbox.*"]);
        var since = DateTime.UtcNow.AddSeconds(-1);

        // Three attempts answered 503: failed, every attempt on record.
        await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-rec-1", DateTime.UtcNow));
        await Eventually.WaitAsync(() => api.DeliveryAsync(endpoint.Id), d => d == ("failed", 3), Deadline, "the delivery to fail", pipeline.Diagnostics);
        var failed = await api.GetAsync($"api/endpoints/{endpoint.Id}/deliveries?status=failed");
        var deliveryId = failed.GetProperty("deliveries").EnumerateArray().Single().GetProperty("id").GetGuid();
        var shown = await api.GetAsync($"api/deliveries/{deliveryId}");
        Assert.Equal("sandbox.created", shown.GetProperty("event").GetProperty("event_type").GetString());
        var attempts = shown.GetProperty("attemptLog").EnumerateArray().ToList();
        Assert.Equal([1, 2, 3], attempts.Select(a => a.GetProperty("number").GetInt32()));
        Assert.All(attempts, a => Assert.Equal(503, a.GetProperty("statusCode").GetInt32()));
        Assert.All(attempts, a => Assert.StartsWith("HTTP 503", a.GetProperty("error").GetString()));
        Assert.Equal("""{"received":1}""", attempts[0].GetProperty("responseBody").GetString());

        // Resent once the receiver works: delivered under the same webhook-id.
        Volatile.Write(ref healthy, true);
        await api.PostAsync($"api/deliveries/{deliveryId}/resend");
        await Eventually.WaitAsync(() => api.DeliveryAsync(endpoint.Id), d => d == ("delivered", 4), Deadline, "the resent delivery", pipeline.Diagnostics);
        Assert.Single(receiver.Received.Select(r => r.Header("webhook-id")).Distinct());
        Assert.Equal(HttpStatusCode.NotFound, (await api.Http.PostAsync($"api/deliveries/{Guid.NewGuid()}/resend", null)).StatusCode);

        // Disabled: matching events are kept as skipped, nothing is sent.
        await api.PostAsync($"api/endpoints/{endpoint.Id}/disable");
        await pipeline.PostE2bAsync(E2bEvents.V2("pause", "sbx-rec-1", DateTime.UtcNow));
        await pipeline.PostE2bAsync(E2bEvents.V2("resume", "sbx-rec-1", DateTime.UtcNow));
        await Eventually.WaitAsync(() => api.CountAsync($"SELECT count(*) FROM webhook_deliveries WHERE \"EndpointId\" = '{endpoint.Id}' AND \"Status\" = 'skipped'"),
            n => n == 2, Deadline, "two skipped deliveries", pipeline.Diagnostics);
        Assert.Equal(4, receiver.Received.Count);
        Assert.Equal(HttpStatusCode.Conflict, (await api.Http.PostAsync($"api/endpoints/{endpoint.Id}/recover?since={Iso(since)}", null)).StatusCode);
        var ledger = await LedgerAsync(api, endpoint.Id);
        Assert.Equal((3, 1, 0, 0, 2, true), ledger);

        // Enabled again and recovered: the two it missed arrive, each under its own id, and the ledger still balances.
        await api.PostAsync($"api/endpoints/{endpoint.Id}/enable");
        var recovered = await api.PostAsync($"api/endpoints/{endpoint.Id}/recover?since={Iso(since)}&rate=100");
        Assert.Equal(2, recovered.GetProperty("recovered").GetInt32());
        Assert.True(recovered.GetProperty("done").GetBoolean());
        var all = await receiver.WaitForAsync(6, pipeline.Diagnostics);
        Assert.Equal(["sandbox.paused", "sandbox.resumed"], all.Skip(4).Select(r => Type(r.Body)).Order());
        Assert.Equal(3, all.Select(r => r.Header("webhook-id")).Distinct().Count());
        await Eventually.WaitAsync(() => LedgerAsync(api, endpoint.Id), l => l == (3, 3, 0, 0, 0, true), Deadline, "all three delivered", pipeline.Diagnostics);
        var again = await api.PostAsync($"api/endpoints/{endpoint.Id}/recover?since={Iso(since)}");
        Assert.Equal(0, again.GetProperty("recovered").GetInt32());

        // The seed's paths.
        var endpoints = await api.GetAsync("api/webhooks/endpoints");
        var row = endpoints.EnumerateArray().Single();
        Assert.Equal(3, row.GetProperty("total_deliveries_24h").GetInt32());
        Assert.Equal(100, row.GetProperty("success_rate_24h").GetDouble());
        var recent = await api.GetAsync("api/webhooks/deliveries?limit=2");
        Assert.Equal(2, recent.GetArrayLength());
        Assert.All(recent.EnumerateArray(), d => Assert.Equal("test receiver", d.GetProperty("endpoint_name").GetString()));
        var stats = await api.GetAsync("api/webhooks/stats?hours=1");
        Assert.Equal(3, stats.GetProperty("total_deliveries").GetInt32());
        Assert.True(stats.GetProperty("p95_response_time").GetDouble() > 0);
        Assert.Equal(3, stats.GetProperty("ledger").GetProperty("delivered").GetInt32());
        var test = await api.PostAsync($"api/webhooks/{endpoint.Id}/test");
        Assert.True(test.GetProperty("success").GetBoolean(), test.ToString());
        Assert.Equal(200, test.GetProperty("status_code").GetInt32());
        Assert.Equal("webhook.test", test.GetProperty("test_event").GetProperty("event_type").GetString());
        var diagnosis = await api.GetAsync($"api/webhooks/{endpoint.Id}/diagnose");
        Assert.Equal(200, diagnosis.GetProperty("reachability").GetProperty("status_code").GetInt32());
        Assert.Empty(diagnosis.GetProperty("issues").EnumerateArray());

        // The same numbers on /metrics (on the management port).
        using var management = new HttpClient { BaseAddress = pipeline.Consumers[ConsumerService.Deliveries].ManagementAddress };
        await Eventually.WaitAsync(async () => await management.GetStringAsync("metrics"),
            m => m.Contains("webhook_ledger_deliveries{state=\"delivered\"} 4", StringComparison.Ordinal)
                 && m.Contains("webhook_ledger_unbalanced_endpoints 0", StringComparison.Ordinal)
                 && m.Contains("webhook_endpoints_active 1", StringComparison.Ordinal)
                 && m.Contains("webhook_queue_size 0", StringComparison.Ordinal)
                 && m.Contains("webhook_deliveries_total{status=\"delivered\"}", StringComparison.Ordinal)
                 && m.Contains("webhook_delivery_attempts_total{outcome=\"http_error\"} 3", StringComparison.Ordinal),
            Deadline, "the delivery metrics", pipeline.Diagnostics);
    }

    [Fact]
    public async Task An_endpoint_whose_every_attempt_fails_for_the_period_is_disabled_and_the_others_are_told()
    {
        var adminKey = DeliveryPipelineTests.NewAdminKey();
        await using var pipeline = await PipelineTopology.StartAsync(services, DeliveryPipelineTests.Topology(adminKey, extra: new()
        {
            ["Deliveries__FailingPeriodBeforeDisable"] = "00:00:02",
            ["Deliveries__RetrySchedule__3"] = "00:00:01",
            ["Deliveries__RetrySchedule__4"] = "00:00:01",
            ["Deliveries__RetrySchedule__5"] = "00:00:01",
        }));
        await using var dead = new WebhookReceiver { Respond = _ => 500 };
        await using var watcher = new WebhookReceiver();
        var api = new DeliveriesClient(pipeline, adminKey);
        var deadEndpoint = await api.CreateAsync(dead.Url, ["sandbox.*"]);
        await api.CreateAsync(watcher.Url, ["endpoint.disabled"]);

        await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-dead-1", DateTime.UtcNow));

        var told = (await watcher.WaitForAsync(1, pipeline.Diagnostics)).Single();
        var envelope = JsonDocument.Parse(told.Body).RootElement;
        Assert.Equal("endpoint.disabled", envelope.GetProperty("event_type").GetString());
        Assert.Equal(deadEndpoint.Id, envelope.GetProperty("data").GetProperty("endpoint_id").GetGuid());
        Assert.StartsWith("Every attempt failed for 00:00:02", envelope.GetProperty("data").GetProperty("reason").GetString());
        var shown = await api.GetAsync($"api/endpoints/{deadEndpoint.Id}");
        Assert.False(shown.GetProperty("enabled").GetBoolean());
        // The first failure starts the period, so at least a second attempt ends it (how many fit in 2 s depends on the load).
        Assert.InRange(dead.Received.Count, 2, 6);

        // Nothing more is sent to it; what is still pending waits for it to be enabled.
        var count = dead.Received.Count;
        await pipeline.PostE2bAsync(E2bEvents.V2("kill", "sbx-dead-1", DateTime.UtcNow));
        await Eventually.WaitAsync(() => api.CountAsync($"SELECT count(*) FROM webhook_deliveries WHERE \"EndpointId\" = '{deadEndpoint.Id}' AND \"Status\" = 'skipped'"),
            n => n == 1, Deadline, "the kill to be skipped", pipeline.Diagnostics);
        Assert.Equal(count, dead.Received.Count);
    }

    private static async Task<(int Matched, int Delivered, int Pending, int Failed, int Skipped, bool Balanced)> LedgerAsync(DeliveriesClient api, Guid endpointId)
    {
        var stats = await api.GetAsync("api/webhooks/stats");
        var l = stats.GetProperty("endpoints").EnumerateArray().Single(e => e.GetProperty("id").GetGuid() == endpointId).GetProperty("ledger");
        return (l.GetProperty("matched").GetInt32(), l.GetProperty("delivered").GetInt32(), l.GetProperty("pending").GetInt32(),
            l.GetProperty("failed").GetInt32(), l.GetProperty("skipped").GetInt32(), l.GetProperty("balanced").GetBoolean());
    }

    private static string Iso(DateTime at) => Uri.EscapeDataString(at.ToString("o"));

    private static string Type(string body) => JsonDocument.Parse(body).RootElement.GetProperty("event_type").GetString()!;
}
