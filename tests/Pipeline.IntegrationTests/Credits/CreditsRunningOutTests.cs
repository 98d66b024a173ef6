using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pipeline.IntegrationTests.Deliveries;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Credits;

/// <summary>
/// Running out of credits, end to end on real services: a gateway's pre-check (allowance), usage through Ingress taking
/// a balance to zero under <c>Credits:AllowNegative=false</c>, and the alerts and the gateway's own notifications coming
/// out of the Deliveries service as outbound webhooks.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class CreditsRunningOutTests(TestServices services)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_usage_beyond_the_balance_stops_at_zero_is_flagged_and_the_alerts_and_notifications_go_out_as_events()
    {
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var adminKey = DeliveryPipelineTests.NewAdminKey();
        var topology = DeliveryPipelineTests.Topology(adminKey, extra: new() { ["Credits__AllowNegative"] = "false" });
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [ConsumerService.Credits, ConsumerService.Deliveries],
            IngressEnvironment = { ["NEWAPI_WEBHOOK_SECRET"] = secret },
            ConsumerEnvironment = topology.ConsumerEnvironment,
        });
        var credits = pipeline.ConsumerHttp[ConsumerService.Credits];
        await using var receiver = new WebhookReceiver();
        var api = new DeliveriesClient(pipeline, adminKey);
        await api.CreateAsync(receiver.Url, ["credits.balance_low", "credits.exhausted", "gateway.notification"]);

        using (var topUp = new HttpRequestMessage(HttpMethod.Post, "api/accounts/u-out/top-ups"))
        {
            topUp.Content = new StringContent("""{"amount": 2, "reference": "seed-u-out"}""", Encoding.UTF8, "application/json");
            topUp.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
            Assert.Equal(HttpStatusCode.Created, (await credits.SendAsync(topUp)).StatusCode);
        }

        // The pre-check: 1,000,000 quota (2 credits) is covered by 2, one more unit is not.
        var allowance = await credits.GetFromJsonAsync<JsonElement>("api/accounts/u-out/allowance?quota=1000000");
        Assert.Equal((true, 2m, 2m), (allowance.GetProperty("covered").GetBoolean(), allowance.GetProperty("credits").GetDecimal(), allowance.GetProperty("balance").GetDecimal()));
        Assert.False((await credits.GetFromJsonAsync<JsonElement>("api/accounts/u-out/allowance?quota=1000001")).GetProperty("covered").GetBoolean());
        Assert.Equal(HttpStatusCode.BadRequest, (await credits.GetAsync("api/accounts/u-out/allowance?quota=-1")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await credits.GetAsync("api/accounts/u-out/allowance")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await credits.GetAsync("api/accounts/nobody/allowance?quota=1")).StatusCode);
        using (var anonymous = new HttpClient { BaseAddress = pipeline.Consumers[ConsumerService.Credits].BaseAddress })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/accounts/u-out/allowance?quota=1")).StatusCode);
        }

        // 2.5 credits of usage against 2: the call happened, so it is recorded, but the balance stops at 0.
        var usage = await pipeline.IngressHttp.SendAsync(NewApiEvents.SignedRequest(NewApiEvents.Consume("req-out-1", "u-out", 1_250_000), secret));
        Assert.Equal(HttpStatusCode.OK, usage.StatusCode);
        var notification = await pipeline.IngressHttp.SendAsync(NewApiEvents.SignedRequest(
            NewApiEvents.Notification("quota_exceed", "Quota exceeded", "User u-out has used 100% of the quota."), secret));
        Assert.Equal(HttpStatusCode.OK, notification.StatusCode);

        var received = await receiver.WaitForAsync(3, pipeline.Diagnostics);
        var events = received.Select(r => JsonDocument.Parse(r.Body).RootElement).ToDictionary(e => e.GetProperty("event_type").GetString()!);
        Assert.Equal(["credits.balance_low", "credits.exhausted", "gateway.notification"], events.Keys.Order());
        Assert.Equal(("u-out", 0m), (events["credits.exhausted"].GetProperty("data").GetProperty("user_id").GetString(),
            events["credits.exhausted"].GetProperty("data").GetProperty("balance").GetDecimal()));
        Assert.Equal(("u-out", 0m, 1m), (events["credits.balance_low"].GetProperty("data").GetProperty("user_id").GetString(),
            events["credits.balance_low"].GetProperty("data").GetProperty("balance").GetDecimal(),
            events["credits.balance_low"].GetProperty("data").GetProperty("threshold").GetDecimal()));
        Assert.Equal("quota_exceed", events["gateway.notification"].GetProperty("data").GetProperty("type").GetString());
        Assert.Equal("new-api", events["gateway.notification"].GetProperty("source").GetString());

        var account = await credits.GetFromJsonAsync<JsonElement>("api/accounts/u-out");
        Assert.Equal((0m, true), (account.GetProperty("balance").GetDecimal(), account.GetProperty("isExhausted").GetBoolean()));
        var entry = (await credits.GetFromJsonAsync<JsonElement>("api/accounts/u-out/ledger")).GetProperty("entries")[0];
        Assert.Equal(("deduction", -2m, 0m, 0.5m, 1_250_000L), (entry.GetProperty("kind").GetString(), entry.GetProperty("amount").GetDecimal(),
            entry.GetProperty("balanceAfter").GetDecimal(), entry.GetProperty("uncovered").GetDecimal(), entry.GetProperty("quota").GetInt64()));
        Assert.True((await credits.GetFromJsonAsync<JsonElement>("api/accounts/u-out/allowance?quota=0")).GetProperty("covered").GetBoolean());

        var metrics = await pipeline.ConsumerManagement[ConsumerService.Credits].GetStringAsync("metrics");
        Assert.Equal(1, Metric(metrics, "pipeline_credits_uncovered_total"));
        Assert.Equal(0.5, Metric(metrics, "pipeline_credits_uncovered_credits_total"));
    }

    private static double Metric(string text, string name) =>
        text.Split('\n').Where(l => l.StartsWith(name + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(name.Length + 1)..], CultureInfo.InvariantCulture)).Single();
}
