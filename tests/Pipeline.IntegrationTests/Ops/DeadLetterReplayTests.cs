using System.Diagnostics;
using System.Net;
using Pipeline.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Ops;

/// <summary>
/// The consumer's database goes away: messages exhaust their retries and land in the dead letters; the operator
/// lists and inspects them with pipeline-ops, the database returns, a replay applies every one exactly once.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class DeadLetterReplayTests(TestServices services, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private const string ErrorQueue = "sandboxes-lifecycle_error";

    [Fact]
    public async Task Dead_letters_from_a_database_outage_are_listed_inspected_and_replayed_once_it_returns()
    {
        var adminKey = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(20));
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            SeparateDatabases = true,
            // Published outbox rows are kept (marked sent): the test reads a message id from them.
            IngressEnvironment = { ["ADMIN_API_KEY"] = adminKey, ["Outbox__RetainSent"] = "01:00:00" },
        });
        const int events = 12;

        await pipeline.SetDatabaseAvailableAsync("Sandboxes", available: false);
        for (var i = 0; i < events; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.V2("create", $"sbx-dl-{i}", DateTime.UtcNow))).StatusCode);
        }

        var clock = Stopwatch.StartNew();
        await Eventually.WaitAsync(() => pipeline.QueueDepthAsync(ErrorQueue), d => d.Ready == events, Deadline,
            $"{events} dead letters", pipeline.Diagnostics);
        output.WriteLine($"{events} messages dead-lettered {clock.ElapsedMilliseconds} ms after the last was accepted");

        // The count-only view (CLI and HTTP, as the dashboard polls it, several times): the same number, and no
        // message read: none redelivered, none held.
        for (var i = 0; i < 3; i++)
        {
            var count = await pipeline.RunOpsAsync("dead-letters", "count");
            output.WriteLine(count.Output + count.Error);
            Assert.Equal(0, count.ExitCode);
            Assert.Contains($"{ErrorQueue}: {events} dead letters (0 being handled)", count.Output);
            Assert.Contains($"total: {events}", count.Output);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await pipeline.IngressHttp.GetAsync("api/admin/dead-letters/counts")).StatusCode);
        for (var i = 0; i < 3; i++)
        {
            using var countsRequest = new HttpRequestMessage(HttpMethod.Get, "api/admin/dead-letters/counts");
            countsRequest.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminKey);
            var counts = System.Text.Json.JsonDocument.Parse(await (await pipeline.IngressHttp.SendAsync(countsRequest)).Content.ReadAsStringAsync()).RootElement;
            var queue = Assert.Single(counts.EnumerateArray());
            Assert.Equal(ErrorQueue, queue.GetProperty("queue").GetString());
            Assert.Equal(events, queue.GetProperty("count").GetInt64());
            Assert.Equal(events, queue.GetProperty("ready").GetInt64());
        }

        Assert.Equal((events, 0), await pipeline.QueueDepthAsync(ErrorQueue));
        var peeked = await Faults.Broker.PeekRedeliveredAsync(services, pipeline, ErrorQueue, events);
        Assert.Equal(events, peeked.Count);
        Assert.DoesNotContain(true, peeked); // no letter was read by the count-only view

        var list = await pipeline.RunOpsAsync("dead-letters", "list");
        output.WriteLine(list.Output + list.Error);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains($"{ErrorQueue}: {events} dead letters", list.Output);
        Assert.DoesNotContain("repeat the MessageId", list.Output);

        // Dead-lettering is at least once: a second copy of a letter (same MessageId) is reported as such, replayed
        // with the others, and applied once.
        await Faults.Broker.CopyHeadAsync(services, pipeline, ErrorQueue);
        const int letters = events + 1;
        list = await Eventually.WaitAsync(() => pipeline.RunOpsAsync("dead-letters", "list"),
            l => l.Output.Contains($"{ErrorQueue}: {letters} dead letters", StringComparison.Ordinal), Deadline, $"{letters} dead letters listed");
        output.WriteLine(list.Output + list.Error);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("1 of them repeat the MessageId of another", list.Output);
        Assert.Contains("Npgsql", list.Output);
        Assert.Contains("Pipeline.Messages.Sandboxes:SandboxLifecycleEventV1", list.Output);

        // The same view over HTTP, for the dashboard: only with the admin key.
        Assert.Equal(HttpStatusCode.Unauthorized, (await pipeline.IngressHttp.GetAsync("api/admin/dead-letters")).StatusCode);
        using var admin = new HttpRequestMessage(HttpMethod.Get, "api/admin/dead-letters");
        admin.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", adminKey);
        var view = System.Text.Json.JsonDocument.Parse(await (await pipeline.IngressHttp.SendAsync(admin)).Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(ErrorQueue, view[0].GetProperty("queue").GetString());
        Assert.Equal(letters, view[0].GetProperty("count").GetInt64());
        Assert.Equal(1, view[0].GetProperty("repeats").GetInt32());

        var messageId = await pipeline.ScalarAsync<Guid>("""SELECT "Id" FROM ingress_outbox ORDER BY "CreatedAt" LIMIT 1""");
        var show = await pipeline.RunOpsAsync("dead-letters", "show", messageId.ToString());
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("sbx-dl-0", show.Output);
        Assert.Contains("replays to sandboxes-lifecycle", show.Output);
        Assert.Contains("MT-Fault-ExceptionType", show.Output);

        var dryRun = await pipeline.RunOpsAsync("dead-letters", "replay", "--dry-run");
        Assert.Equal(0, dryRun.ExitCode);
        Assert.Contains($"dry run: {letters} of {letters}", dryRun.Output);
        var refused = await pipeline.RunOpsAsync("dead-letters", "purge");
        Assert.Equal(2, refused.ExitCode);
        Assert.Equal((uint)letters, await Faults.Broker.ReadyAsync(services, pipeline, ErrorQueue));

        await pipeline.SetDatabaseAvailableAsync("Sandboxes", available: true);
        var replay = await pipeline.RunOpsAsync("dead-letters", "replay", "--queue", "sandboxes-lifecycle", "--rate", "100");
        output.WriteLine(replay.Output + replay.Error);
        Assert.Equal(0, replay.ExitCode);
        Assert.Contains($"replayed {letters} of {letters}", replay.Output);

        await Eventually.WaitAsync(async () => await pipeline.CountAsync("SELECT count(*) FROM sandboxes", "Sandboxes"),
            n => n == events, Deadline, "every replayed event applied", pipeline.Diagnostics);
        Assert.Equal(events, await pipeline.CountAsync("SELECT count(*) FROM sandboxes_inbox", "Sandboxes"));
        Assert.Equal(events, await pipeline.CountAsync("""SELECT sum("EventCount") FROM sandboxes""", "Sandboxes"));
        await Eventually.WaitAsync(() => pipeline.QueueDepthAsync(ErrorQueue), d => d == (0, 0), Deadline, "no dead letters left");
    }
}
