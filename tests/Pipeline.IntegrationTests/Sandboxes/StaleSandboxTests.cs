using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Pipeline.IntegrationTests.Deliveries;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Sandboxes;

/// <summary>
/// The E2B guide's cost control on real services: sandboxes silent for longer than <c>Sandboxes:StaleAfter</c> are
/// marked stale by two Sandboxes replicas checking at once, each announced once as <c>sandbox.stale</c> through the
/// Deliveries service; a team's billed seconds are priced per template.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class StaleSandboxTests(TestServices services)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Silent_sandboxes_are_marked_stale_once_across_two_replicas_and_a_team_usage_is_priced()
    {
        var adminKey = DeliveryPipelineTests.NewAdminKey();
        var settings = new Dictionary<string, string>
        {
            ["Sandboxes__StaleAfter"] = "01:00:00",
            ["Sandboxes__StaleCheckInterval"] = "00:00:00.200",
            ["Sandboxes__PricePerSecond__base"] = "0.00002",
            // Published rows kept, marked sent, so that the outbox shows how many announcements were written.
            ["Outbox__RetainSent"] = "01:00:00",
        };
        var topology = DeliveryPipelineTests.Topology(adminKey, extra: settings);
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [ConsumerService.Sandboxes, ConsumerService.Deliveries],
            ConsumerEnvironment = topology.ConsumerEnvironment,
        });
        var sandboxes = ConsumerService.Sandboxes;
        await using var replica = new HostProcess("sandboxes-2", sandboxes.Project, sandboxes.Assembly,
            pipeline.Environment(services.RabbitMq.Port, sandboxes.ConnectionName, topology.ConsumerEnvironment));
        await replica.StartAsync(TimeSpan.FromMinutes(3));
        await using var receiver = new WebhookReceiver();
        await new DeliveriesClient(pipeline, adminKey).CreateAsync(receiver.Url, ["sandbox.stale"]);

        // Three silent for two hours or more (running, paused after 600 s of running, running), one created a minute
        // ago, one killed long ago after 1200 s. (Not an old create followed by a recent update: the 200 ms check may run
        // between the two, when that sandbox is rightly stale.)
        var now = DateTime.UtcNow;
        var bodies = new[]
        {
            E2bEvents.V2("create", "sbx-old-run", now.AddHours(-3)),
            E2bEvents.V2("pause", "sbx-old-paused", now.AddHours(-2), executionMs: 600_000),
            E2bEvents.V2("create", "sbx-old-run-2", now.AddHours(-2)),
            E2bEvents.V2("create", "sbx-fresh", now.AddMinutes(-1)),
            E2bEvents.V2("kill", "sbx-killed", now.AddHours(-4), executionMs: 1_200_000),
        };
        foreach (var body in bodies)
        {
            Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(body)).StatusCode);
        }

        var stale = await Eventually.WaitAsync(
            async () => await pipeline.SandboxesHttp.GetFromJsonAsync<JsonElement>("api/sandboxes?stale=true"),
            list => list.GetArrayLength() == 3, Deadline, "three sandboxes marked stale", pipeline.Diagnostics);
        Assert.Equal(["sbx-old-paused", "sbx-old-run", "sbx-old-run-2"], stale.EnumerateArray().Select(s => s.GetProperty("sandboxId").GetString()).Order());
        Assert.All(stale.EnumerateArray(), s => Assert.True(s.GetProperty("stale").GetBoolean()));

        var received = await receiver.WaitForAsync(3, pipeline.Diagnostics);
        var events = received.Select(r => JsonDocument.Parse(r.Body).RootElement).ToList();
        Assert.All(events, e => Assert.Equal(("sandbox.stale", "sandboxes"), (e.GetProperty("event_type").GetString(), e.GetProperty("source").GetString())));
        var paused = events.Single(e => e.GetProperty("data").GetProperty("sandbox_id").GetString() == "sbx-old-paused").GetProperty("data");
        Assert.Equal(("paused", "team-1", "base", 3600d), (paused.GetProperty("state").GetString(), paused.GetProperty("team_id").GetString(),
            paused.GetProperty("template_id").GetString(), paused.GetProperty("stale_after_seconds").GetDouble()));

        // Two replicas checked every 200 ms for the whole wait: each sandbox was still marked and announced once.
        await Eventually.WaitAsync(() => pipeline.CountAsync("""SELECT count(*) FROM sandboxes_outbox WHERE "SentAt" IS NULL""", "Sandboxes"),
            n => n == 0, Deadline, "the sandboxes outbox to be published", pipeline.Diagnostics);
        Assert.Equal(3, await pipeline.CountAsync("SELECT count(*) FROM sandboxes_outbox", "Sandboxes"));
        Assert.Equal(3, receiver.Received.Count);
        var status = await pipeline.RunOpsAsync("outbox", "status", "--provider", "PostgreSql", "--connection", pipeline.DatabaseOf("Sandboxes"));
        Assert.True(status.ExitCode == 0, status.Output + status.Error);
        Assert.Contains("sandboxes_outbox: 0 pending", status.Output);
        Assert.Matches(@"sandboxes_outbox: .*, \d+ sent in the last minute", status.Output);

        var fresh = (await pipeline.GetSandboxAsync("sbx-fresh"))!.Value;
        Assert.False(fresh.GetProperty("stale").GetBoolean());
        Assert.Equal(["sbx-fresh", "sbx-killed"],
            (await pipeline.SandboxesHttp.GetFromJsonAsync<JsonElement>("api/sandboxes?stale=false")).EnumerateArray().Select(s => s.GetProperty("sandboxId").GetString()).Order());
        Assert.Equal(HttpStatusCode.BadRequest, (await pipeline.SandboxesHttp.GetAsync("api/sandboxes?stale=maybe")).StatusCode);

        // A stale sandbox that speaks again is fresh.
        Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.V2("resume", "sbx-old-paused", DateTime.UtcNow))).StatusCode);
        await Eventually.WaitAsync(async () => (await pipeline.GetSandboxAsync("sbx-old-paused"))!.Value.GetProperty("stale").GetBoolean(),
            s => !s, Deadline, "sbx-old-paused fresh again", pipeline.Diagnostics);

        // team-1's usage over the last day: 600 s paused + 1200 s killed, at 0.00002 per second of base.
        var usage = await pipeline.SandboxesHttp.GetFromJsonAsync<JsonElement>(
            $"api/teams/team-1/usage?from={Uri.EscapeDataString(now.AddDays(-1).ToString("O"))}&to={Uri.EscapeDataString(DateTime.UtcNow.AddMinutes(1).ToString("O"))}");
        Assert.Equal((5, 1800d, 0.036m), (usage.GetProperty("sandboxes").GetInt32(), usage.GetProperty("billedSeconds").GetDouble(), usage.GetProperty("cost").GetDecimal()));
        var template = Assert.Single(usage.GetProperty("templates").EnumerateArray());
        Assert.Equal(("base", 0.00002m), (template.GetProperty("templateId").GetString(), template.GetProperty("pricePerSecond").GetDecimal()));
        Assert.Equal(0, (await pipeline.SandboxesHttp.GetFromJsonAsync<JsonElement>("api/teams/team-nobody/usage")).GetProperty("sandboxes").GetInt32());
        Assert.Equal(HttpStatusCode.BadRequest, (await pipeline.SandboxesHttp.GetAsync("api/teams/team-1/usage?from=yesterday")).StatusCode);
        using var anonymous = new HttpClient { BaseAddress = pipeline.Sandboxes.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("api/teams/team-1/usage")).StatusCode);
    }
}
