using System.Diagnostics;
using System.Net;
using Pipeline.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Faults;

/// <summary>
/// The second level of retries: a message that still fails after its in-memory retries waits in a TTL queue in the
/// broker, so the wait survives the consumer process; only after the last delay does it reach the dead letters.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class DelayedRedeliveryTests(TestServices services, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private const string Queue = "sandboxes-lifecycle";

    [Fact]
    public async Task Messages_waiting_for_a_delayed_retry_survive_a_consumer_kill_and_are_applied_once_after_the_restart()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            SeparateDatabases = true,
            ConsumerEnvironment =
            {
                ["Bus__RetryLimit"] = "1",
                // Long enough to see all of them waiting and kill the consumer before the first comes back.
                ["Bus__Redelivery__0"] = "00:00:08",
                ["Bus__Redelivery__1"] = "00:00:08",
            },
        });
        const int events = 10;
        const string delayQueue = Queue + "_delay_8s";

        var arguments = await Broker.QueueArgumentsAsync(services, pipeline, delayQueue);
        Assert.Equal(8000, arguments.GetProperty("x-message-ttl").GetInt64());
        Assert.Equal(Queue, arguments.GetProperty("x-dead-letter-routing-key").GetString());
        Assert.Equal("quorum", arguments.GetProperty("x-queue-type").GetString());

        await pipeline.SetDatabaseAvailableAsync("Sandboxes", available: false);
        for (var i = 0; i < events; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.V2("create", $"sbx-delay-{i}", DateTime.UtcNow))).StatusCode);
        }

        await Eventually.WaitAsync(() => Broker.ReadyAsync(services, pipeline, delayQueue), n => n == events, Deadline,
            $"{events} messages waiting in {delayQueue}", pipeline.Diagnostics);
        pipeline.Sandboxes.Kill();
        var clock = Stopwatch.StartNew();
        Assert.Equal((uint)events, await Broker.ReadyAsync(services, pipeline, delayQueue));
        Assert.Equal(0u, await Broker.ReadyAsync(services, pipeline, Queue));

        // Nobody runs: the broker alone brings them back when their time is up.
        await Eventually.WaitAsync(() => Broker.ReadyAsync(services, pipeline, Queue), n => n == events, Deadline,
            $"the {events} messages back in {Queue} with the consumer down", pipeline.Diagnostics);
        output.WriteLine($"back in {Queue} {clock.ElapsedMilliseconds} ms after the consumer was killed");
        Assert.Equal(0u, await Broker.ReadyAsync(services, pipeline, delayQueue));

        await pipeline.SetDatabaseAvailableAsync("Sandboxes", available: true);
        await pipeline.Sandboxes.StartAsync();
        await Eventually.WaitAsync(async () => await pipeline.CountAsync("SELECT count(*) FROM sandboxes", "Sandboxes"),
            n => n == events, Deadline, "every delayed message applied after the restart", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.QueueDepthAsync(Queue), d => d == (0, 0), Deadline, "the queue drained", pipeline.Diagnostics);

        Assert.Equal(events, await pipeline.CountAsync("SELECT count(*) FROM sandboxes_inbox", "Sandboxes"));
        Assert.Equal(events, await pipeline.CountAsync("""SELECT sum("EventCount") FROM sandboxes""", "Sandboxes"));
        Assert.Equal((0, 0), await pipeline.QueueDepthAsync(Queue + "_error"));
        Assert.Equal((0, 0), await pipeline.QueueDepthAsync(Queue + "_isolated"));
    }

    [Fact]
    public async Task A_message_that_fails_through_the_whole_schedule_is_dead_lettered_with_its_fault_and_replays_once_fixed()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            SeparateDatabases = true,
            // Published outbox rows are kept (marked sent): the test reads a message id from them.
            IngressEnvironment = { ["Outbox__RetainSent"] = "01:00:00" },
            ConsumerEnvironment =
            {
                ["Bus__RetryLimit"] = "1",
                ["Bus__Redelivery__0"] = "00:00:02",
                ["Bus__Redelivery__1"] = "00:00:03",
            },
        });
        const int events = 3;

        await pipeline.SetDatabaseAvailableAsync("Sandboxes", available: false);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < events; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.V2("create", $"sbx-exhausted-{i}", DateTime.UtcNow))).StatusCode);
        }

        await Eventually.WaitAsync(() => Broker.ReadyAsync(services, pipeline, Queue + "_error"), n => n == events, Deadline,
            $"{events} dead letters", pipeline.Diagnostics);
        output.WriteLine($"dead-lettered {clock.ElapsedMilliseconds} ms after the first was posted");
        // Each waited in both delay queues: the broker cannot have let them go sooner.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(5), $"dead-lettered after {clock.Elapsed}, before the 2 s + 3 s of delays");
        Assert.Equal(0u, await Broker.ReadyAsync(services, pipeline, Queue + "_delay_2s"));
        Assert.Equal(0u, await Broker.ReadyAsync(services, pipeline, Queue + "_delay_3s"));

        var messageId = await pipeline.ScalarAsync<Guid>("""SELECT "Id" FROM ingress_outbox ORDER BY "CreatedAt" LIMIT 1""");
        var show = await pipeline.RunOpsAsync("dead-letters", "show", messageId.ToString());
        output.WriteLine(show.Output + show.Error);
        Assert.Equal(0, show.ExitCode);
        Assert.Contains("sbx-exhausted-0", show.Output);
        Assert.Contains("Pipeline-Redelivery-Count: 2", show.Output);
        Assert.Contains("exception:    Npgsql", show.Output);

        await pipeline.SetDatabaseAvailableAsync("Sandboxes", available: true);
        var replay = await pipeline.RunOpsAsync("dead-letters", "replay", "--queue", Queue);
        Assert.Equal(0, replay.ExitCode);
        Assert.Contains($"replayed {events} of {events}", replay.Output);
        await Eventually.WaitAsync(async () => await pipeline.CountAsync("""SELECT coalesce(sum("EventCount"), 0) FROM sandboxes""", "Sandboxes"),
            n => n == events, Deadline, "every replayed message applied once", pipeline.Diagnostics);
        Assert.Equal(0u, await Broker.ReadyAsync(services, pipeline, Queue + "_error"));
    }
}
