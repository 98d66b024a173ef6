using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Sandboxes;

/// <summary>E2B events end to end: HTTP → Ingress → outbox → RabbitMQ → Sandboxes service → read API, on real services.</summary>
[Collection(PipelineCollection.Name)]
public sealed class SandboxPipelineTests(TestServices services, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Create_then_kill_over_http_ends_killed_in_the_read_api()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services);
        var at = DateTime.UtcNow;

        var created = await pipeline.PostE2bAsync(E2bEvents.Seed("create", "sbx-life-1", at), path: "postreceive");
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        var reply = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement;
        Assert.True(reply.GetProperty("success").GetBoolean());
        Assert.Equal("Event create processed successfully", reply.GetProperty("message").GetString());
        Assert.Equal("sbx-life-1", reply.GetProperty("sandboxId").GetString());

        var running = await Eventually.WaitAsync(() => pipeline.GetSandboxAsync("sbx-life-1"),
            s => s?.GetProperty("state").GetString() == "running", Deadline, "sandbox running", pipeline.Diagnostics);
        Assert.Equal("base", running!.Value.GetProperty("templateId").GetString());
        Assert.Equal("team-1", running.Value.GetProperty("teamId").GetString());

        var killed = await pipeline.PostE2bAsync(E2bEvents.V2("kill", "sbx-life-1", at.AddSeconds(90), executionMs: 90_000));
        Assert.Equal(HttpStatusCode.OK, killed.StatusCode);

        var final = await Eventually.WaitAsync(() => pipeline.GetSandboxAsync("sbx-life-1"),
            s => s?.GetProperty("state").GetString() == "killed", Deadline, "sandbox killed", pipeline.Diagnostics);
        Assert.Equal(90, final!.Value.GetProperty("billedRunningSeconds").GetDouble());
        Assert.Equal(HttpStatusCode.NotFound, (await pipeline.SandboxesHttp.GetAsync("api/sandboxes/sbx-never-seen")).StatusCode);
        var active = JsonDocument.Parse(await pipeline.SandboxesHttp.GetStringAsync("api/sandboxes?state=running")).RootElement;
        Assert.Equal(0, active.GetArrayLength());

        // The operator's "send test event" button: a correctly signed sample in each format reaches the registry.
        foreach (var format in new[] { "v2", "seed" })
        {
            var sent = await pipeline.RunOpsAsync("send-test", "e2b", "create", "--format", format, "--sandbox", $"sbx-ops-{format}",
                "--url", pipeline.Ingress.BaseAddress.ToString(), "--secret", pipeline.Secret);
            Assert.True(sent.ExitCode == 0, sent.Output + sent.Error);
            await Eventually.WaitAsync(() => pipeline.GetSandboxAsync($"sbx-ops-{format}"), s => s is not null, Deadline, "test event applied", pipeline.Diagnostics);
        }
    }

    [Fact]
    public async Task The_same_event_delivered_three_times_has_one_effect()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services);
        var body = E2bEvents.V2("create", "sbx-dup-1", DateTime.UtcNow);

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(body)).StatusCode);
        }

        await Eventually.WaitAsync(() => pipeline.GetSandboxAsync("sbx-dup-1"), s => s is not null, Deadline, "sandbox recorded", pipeline.Diagnostics);
        await Eventually.WaitAsync(async () => await pipeline.CountAsync("""SELECT count(*) FROM ingress_outbox WHERE "SentAt" IS NULL""") == 0,
            Deadline, "outbox drained", pipeline.Diagnostics);

        // One message (one inbox row), its outbox row deleted once published.
        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        Assert.Equal(0, await pipeline.CountAsync("SELECT count(*) FROM ingress_outbox"));
        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM sandboxes_inbox"));
        Assert.Equal(1, await pipeline.CountAsync("""SELECT "EventCount" FROM sandboxes WHERE "SandboxId" = 'sbx-dup-1'"""));
    }

    [Fact]
    public async Task A_bad_signature_is_401_and_leaves_no_receipt_and_no_message()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services);
        var body = E2bEvents.Seed("create", "sbx-forged", DateTime.UtcNow);

        var forged = await pipeline.PostE2bAsync(body, secret: "not-the-secret-0123456789");
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        var error = JsonDocument.Parse(await forged.Content.ReadAsStringAsync()).RootElement;
        Assert.False(error.GetProperty("success").GetBoolean());
        Assert.Equal("signature mismatch", error.GetProperty("error").GetString());

        var unsigned = await pipeline.IngressHttp.PostAsync("webhooks/e2b", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, unsigned.StatusCode);

        // A genuine event after the forgeries proves the pipeline was live while they were refused.
        Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.Seed("create", "sbx-genuine", DateTime.UtcNow))).StatusCode);
        await Eventually.WaitAsync(() => pipeline.GetSandboxAsync("sbx-genuine"), s => s is not null, Deadline, "genuine sandbox", pipeline.Diagnostics);

        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM sandboxes_inbox"));
        Assert.Null(await pipeline.GetSandboxAsync("sbx-forged"));
        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM sandboxes"));
    }

    [Fact]
    public async Task With_the_broker_unreachable_ingress_keeps_accepting_and_the_backlog_drains_when_it_returns()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services);
        const int events = 40;

        pipeline.BrokerProxy.Cut();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < events; i++)
        {
            var response = await pipeline.PostE2bAsync(E2bEvents.V2("create", $"sbx-outage-{i}", DateTime.UtcNow));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        output.WriteLine($"{events} events accepted with the broker cut off in {clock.ElapsedMilliseconds} ms");
        Assert.Equal(events, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        Assert.Equal(events, await pipeline.CountAsync("""SELECT count(*) FROM ingress_outbox WHERE "SentAt" IS NULL"""));
        Assert.Equal(0, await pipeline.CountAsync("SELECT count(*) FROM sandboxes"));
        var status = await pipeline.RunOpsAsync("outbox", "status", "--provider", "PostgreSql", "--connection", pipeline.DatabaseOf("Ingress"));
        output.WriteLine(status.Output + status.Error);
        Assert.Equal(0, status.ExitCode);
        Assert.Contains($"ingress_outbox: {events} pending", status.Output);
        Assert.Contains("no published rows kept", status.Output);
        await Eventually.WaitAsync(async () => await pipeline.IngressManagement.GetStringAsync("metrics"),
            m => m.Contains($"pipeline_outbox_pending{{context=\"IngressDbContext\"}} {events}"), Deadline, "the backlog in /metrics");

        // Still ready for traffic: the broker's absence degrades Ingress, it does not take it out of the load balancer.
        var ready = await Eventually.WaitAsync(async () => await pipeline.IngressManagement.GetAsync("health/ready"),
            r => r.Content.ReadAsStringAsync().Result.Contains("\"Degraded\""), Deadline, "readiness to show the broker outage");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);

        pipeline.BrokerProxy.Restore();
        clock.Restart();
        await Eventually.WaitAsync(async () => await pipeline.CountAsync("SELECT count(*) FROM sandboxes"),
            n => n == events, Deadline, $"all {events} sandboxes after the broker returned", pipeline.Diagnostics);
        output.WriteLine($"backlog of {events} drained {clock.ElapsedMilliseconds} ms after the broker returned");

        // The dispatcher deletes a batch's rows after the broker's confirms, which may come after a consumer applied them.
        await Eventually.WaitAsync(() => pipeline.CountAsync("""SELECT count(*) FROM ingress_outbox WHERE "SentAt" IS NULL"""),
            n => n == 0, Deadline, "the outbox emptied once the broker confirmed every row", pipeline.Diagnostics);
        Assert.Equal(events, await pipeline.CountAsync("""SELECT sum("EventCount") FROM sandboxes"""));
        // Counted right after the delete's commit.
        var metrics = await Eventually.WaitAsync(async () => await pipeline.IngressManagement.GetStringAsync("metrics"),
            m => m.Contains($"pipeline_outbox_published_total{{context=\"IngressDbContext\"}} {events}"), Deadline, "every row counted as published");
        Assert.Contains($"pipeline_webhooks_accepted_total{{provider=\"e2b\",outcome=\"new\"}} {events}", metrics);
    }

    [Fact]
    public async Task A_graceful_stop_with_the_broker_away_gives_back_the_lease_of_every_row_not_published()
    {
        // Batches of 10 and room for 40 rows in memory: the 30 rows are all handed over leased, the first rows handed are
        // being published (waiting for the broker; a long publish timeout keeps them waiting) and the rest wait in memory.
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            IngressEnvironment = { ["Outbox__BatchSize"] = "10", ["Outbox__PublishTimeout"] = "00:05:00" },
        });
        const int events = 30;
        const string leased = """SELECT count(*) FROM ingress_outbox WHERE "SentAt" IS NULL AND "LockedBy" IS NOT NULL""";

        pipeline.BrokerProxy.Cut();
        for (var i = 0; i < events; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.V2("create", $"sbx-stop-{i}", DateTime.UtcNow))).StatusCode);
        }

        Assert.Equal(events, await pipeline.CountAsync(leased));
        await Eventually.WaitAsync(async () => await pipeline.IngressManagement.GetStringAsync("metrics"),
            m => Regex.IsMatch(m, "^pipeline_outbox_in_flight\\{context=\"IngressDbContext\"\\} [1-9]", RegexOptions.Multiline),
            Deadline, "rows being published");
        var clock = Stopwatch.StartNew();
        await pipeline.Ingress.StopAsync();
        output.WriteLine($"Ingress stopped gracefully in {clock.ElapsedMilliseconds} ms with {events} rows unpublished");

        // Every row is still there and unsent, and none waits for its lease (a minute) to lapse: the next dispatcher claims
        // them at once. A publish the stop cut short is given back too, or (when the bus stopped first and failed it)
        // waits only for its first retry delay.
        Assert.Equal(events, await pipeline.CountAsync("""SELECT count(*) FROM ingress_outbox WHERE "SentAt" IS NULL"""));
        Assert.Equal(0, await pipeline.CountAsync(
            """SELECT count(*) FROM ingress_outbox WHERE "LockedUntil" > now() + interval '5 seconds'"""));
        Assert.Matches(@"Gave back the leases of [1-9]\d* outbox messages not published at the stop", pipeline.Ingress.FullOutput());

        pipeline.BrokerProxy.Restore();
        await pipeline.Ingress.StartAsync();
        await Eventually.WaitAsync(async () => await pipeline.CountAsync("SELECT count(*) FROM sandboxes"),
            n => n == events, Deadline, $"all {events} sandboxes after the restart", pipeline.Diagnostics);
        Assert.Equal(events, await pipeline.CountAsync("""SELECT sum("EventCount") FROM sandboxes"""));
    }

    [Fact]
    public async Task Rows_the_broker_confirmed_wait_leased_to_be_deleted_together_and_a_graceful_stop_deletes_them()
    {
        // A delay longer than the test: every confirmed row waits for the stop.
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            IngressEnvironment = { ["Outbox__CompleteDelay"] = "00:10:00", ["Outbox__Lease"] = "00:30:00" },
        });
        const int events = 20;
        for (var i = 0; i < events; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.V2("create", $"sbx-done-{i}", DateTime.UtcNow))).StatusCode);
        }

        await Eventually.WaitAsync(async () => await pipeline.IngressManagement.GetStringAsync("metrics"),
            m => m.Contains($"pipeline_outbox_published_total{{context=\"IngressDbContext\"}} {events}"), Deadline, "every row confirmed by the broker");
        await Eventually.WaitAsync(async () => await pipeline.CountAsync("SELECT count(*) FROM sandboxes"),
            n => n == events, Deadline, $"all {events} sandboxes", pipeline.Diagnostics);

        // Published and applied, but still in the table under a lease no other dispatcher may take.
        Assert.Equal(events, await pipeline.CountAsync(
            """SELECT count(*) FROM ingress_outbox WHERE "SentAt" IS NULL AND "LockedUntil" > now() + interval '20 minutes'"""));

        await pipeline.Ingress.StopAsync();
        Assert.Equal(0, await pipeline.CountAsync("SELECT count(*) FROM ingress_outbox"));
        Assert.Equal(events, await pipeline.CountAsync("""SELECT sum("EventCount") FROM sandboxes"""));
    }

    [Fact]
    public async Task A_consumer_killed_mid_stream_and_restarted_loses_nothing_and_applies_nothing_twice()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services);
        // Enough events that the stream is still flowing when the kill lands: the consumer applies what it holds in
        // shared transactions and keeps up with the sender, so a short stream could be over before the kill.
        const int events = 2000;
        var at = DateTime.UtcNow;

        var sender = Task.Run(async () =>
        {
            await Parallel.ForAsync(0, events, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
            {
                var response = await pipeline.PostE2bAsync(E2bEvents.V2("create", $"sbx-crash-{i}", at.AddMilliseconds(i)));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            });
        });

        await Eventually.WaitAsync(async () => await pipeline.CountAsync("SELECT count(*) FROM sandboxes_inbox"),
            n => n >= 20, Deadline, "the consumer to be mid-stream", pipeline.Diagnostics);
        pipeline.Sandboxes.Kill();
        var appliedBeforeKill = await pipeline.CountAsync("SELECT count(*) FROM sandboxes_inbox");
        output.WriteLine($"consumer killed after applying {appliedBeforeKill} of {events}");
        await sender;

        await pipeline.Sandboxes.StartAsync();
        await Eventually.WaitAsync(async () => await pipeline.CountAsync("SELECT count(*) FROM sandboxes_inbox"),
            n => n == events, Deadline, $"all {events} messages applied after the restart", pipeline.Diagnostics);
        await Eventually.WaitAsync(async () => await pipeline.QueueDepthAsync("sandboxes-lifecycle"),
            d => d == (0, 0), Deadline, "the queue to be empty", pipeline.Diagnostics);

        Assert.Equal(events, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        Assert.Equal(events, await pipeline.CountAsync("SELECT count(*) FROM sandboxes"));
        // Every sandbox saw its one event exactly once: a redelivered message was acknowledged without a second effect.
        Assert.Equal(events, await pipeline.CountAsync("""SELECT sum("EventCount") FROM sandboxes"""));
        Assert.Equal(0, await pipeline.CountAsync("""SELECT count(*) FROM sandboxes WHERE "EventCount" <> 1"""));
        Assert.True(appliedBeforeKill < events, "the kill must land mid-stream for this test to mean anything");
    }
}
