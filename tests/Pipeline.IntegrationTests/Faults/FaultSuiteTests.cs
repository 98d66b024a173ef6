using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Faults;

/// <summary>
/// The fault suite: new-api usage events stream through Ingress into the Credits service while something breaks.
/// Every scenario ends with <see cref="UsageLedger.SettleAsync"/>: accepted == applied + dead letters, and no request
/// deducted twice. Each prints its figures.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class FaultSuiteTests(TestServices services, ITestOutputHelper output)
{
    private const string UsageExchange = "Pipeline.Messages.Credits:UsageRecordedV1";
    private static readonly string[] Users = ["u-1", "u-2", "u-3", "u-4", "u-5", "u-6", "u-7", "u-8"];

    private readonly string _secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    private readonly string _adminKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    [Fact]
    public async Task Broker_stopped_under_a_steady_stream_loses_nothing_and_applies_nothing_twice()
    {
        await using var pipeline = await StartAsync(new TopologyOptions { ConsumersThroughBrokerProxy = true });
        var ledger = Ledger(pipeline, "broker");

        var stream = ledger.StartStream();
        await ledger.WaitForAppliedAsync(100, "the stream flowing before the broker goes");
        pipeline.BrokerProxy.Cut();
        var outage = Stopwatch.StartNew();
        await ledger.WaitForAcceptedAsync(200, "accepted while the broker is away");
        var appliedDuringOutage = await ledger.AppliedAsync();
        pipeline.BrokerProxy.Restore();
        output.WriteLine($"broker unreachable for every service for {outage.Elapsed.TotalSeconds:0.0} s while the stream went on");
        await ledger.WaitForAcceptedAsync(100, "after the broker's return");
        await ledger.WaitForAppliedAsync(appliedDuringOutage + 1, "deductions resuming after the broker's return");
        await stream.StopAsync();

        var tally = await ledger.SettleAsync("broker stopped under a steady stream");
        Assert.Equal(0, tally.DeadLetters);
    }

    [Fact]
    public async Task Consumer_killed_mid_batch_and_restarted_applies_every_event_once()
    {
        await using var pipeline = await StartAsync(new TopologyOptions());
        var ledger = Ledger(pipeline, "kill");
        var consumer = pipeline.Consumers[ConsumerService.Credits];

        var stream = ledger.StartStream();
        await ledger.WaitForAppliedAsync(150, "the consumer busy before it is killed");
        consumer.Kill();
        var killedAt = await ledger.AppliedAsync();
        var down = Stopwatch.StartNew();
        await ledger.WaitForAcceptedAsync(150, "accepted while the consumer is dead");
        await consumer.StartAsync();
        output.WriteLine($"consumer killed (SIGKILL) after {killedAt} deductions, restarted {down.Elapsed.TotalSeconds:0.0} s later");
        await ledger.WaitForAcceptedAsync(100, "after the restart");
        await stream.StopAsync();

        var tally = await ledger.SettleAsync("consumer killed mid-batch");
        Assert.Equal(0, tally.DeadLetters);
        Assert.True(tally.Applied > killedAt);
    }

    [Fact]
    public async Task Ingress_killed_under_load_and_restarted_loses_no_accepted_event()
    {
        await using var pipeline = await StartAsync(new TopologyOptions());
        var ledger = Ledger(pipeline, "ingress-kill");

        // Enough load that commits are shared (group commit) when the process dies: some requests are in a batch being
        // committed, some wait for the next one, some are answered. Every 200 must have its receipt and its deduction;
        // a request cut off without an answer is sent again by the sender, as a provider would.
        var stream = ledger.StartStream(perSecond: 250);
        await ledger.WaitForAcceptedAsync(300, "the stream flowing before Ingress is killed");
        pipeline.Ingress.Kill();
        var acceptedAtKill = ledger.Accepted;
        var down = Stopwatch.StartNew();
        await pipeline.Ingress.StartAsync();
        output.WriteLine($"Ingress killed (SIGKILL) after {acceptedAtKill} accepted events, answering again {down.Elapsed.TotalSeconds:0.0} s later");
        await ledger.WaitForAcceptedAsync(300, "after the restart");
        await stream.StopAsync();

        var tally = await ledger.SettleAsync("Ingress killed under load");
        Assert.Equal(0, tally.DeadLetters);
        Assert.True(tally.Applied >= acceptedAtKill + 300);
    }

    [Fact]
    public async Task Consumer_database_away_sends_what_exhausts_its_retries_to_the_dead_letters_and_a_replay_applies_them_once()
    {
        // Three quick retries (0.3 s, 0.5 s, 0.9 s) instead of six, so the outage outlasts some messages' retries.
        await using var pipeline = await StartAsync(new TopologyOptions
        {
            SeparateDatabases = true,
            ConsumerEnvironment = { ["Bus__RetryLimit"] = "3" },
        });
        var ledger = Ledger(pipeline, "db");

        var stream = ledger.StartStream();
        await ledger.WaitForAppliedAsync(100, "the stream flowing before the database goes");
        await pipeline.SetDatabaseAvailableAsync("Credits", available: false);
        var outage = Stopwatch.StartNew();
        await ledger.WaitForAcceptedAsync(150, "accepted while the consumer's database is away");
        await Eventually.WaitAsync(ledger.DeadLettersAsync, n => n > 0, TimeSpan.FromSeconds(60),
            "a message to exhaust its retries", pipeline.Diagnostics);
        await pipeline.SetDatabaseAvailableAsync("Credits", available: true);
        output.WriteLine($"Credits database refused connections for {outage.Elapsed.TotalSeconds:0.0} s");
        await ledger.WaitForAcceptedAsync(100, "after the database's return");
        await stream.StopAsync();

        var before = await ledger.SettleAsync("consumer database unavailable: before replay");
        Assert.True(before.DeadLetters > 0);
        Assert.True(before.Applied > 0);

        var clock = Stopwatch.StartNew();
        var replay = await pipeline.RunOpsAsync("dead-letters", "replay", "--queue", UsageLedger.Queue);
        output.WriteLine(replay.Output + replay.Error);
        Assert.Equal(0, replay.ExitCode);
        Assert.Contains($"replayed {before.DeadLetters} of {before.DeadLetters}", replay.Output);
        var after = await ledger.SettleAsync("consumer database unavailable: after replay");
        output.WriteLine($"  {before.DeadLetters} dead letters replayed and applied in {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal((before.Accepted, before.Accepted, 0), (after.Accepted, after.Applied, after.DeadLetters));
    }

    [Fact]
    public async Task Poison_messages_among_good_ones_go_to_the_dead_letters_with_their_cause_and_block_nothing()
    {
        await using var pipeline = await StartAsync(new TopologyOptions());
        var ledger = Ledger(pipeline, "poison");

        var stream = ledger.StartStream();
        await ledger.WaitForAppliedAsync(50, "the stream flowing before the poison");
        var poison = await PublishPoisonAsync(pipeline);
        var appliedAtPoison = await ledger.AppliedAsync();
        await ledger.WaitForAcceptedAsync(200, "good events behind the poison");
        await stream.StopAsync();

        var tally = await ledger.SettleAsync("poison among good messages", foreignDeadLetters: poison.Count);
        Assert.Equal(0, tally.DeadLetters);
        Assert.True(tally.Applied >= appliedAtPoison + 150);

        // Each poison message is in the dead letters with its own cause.
        foreach (var fault in tally.PoisonFaults.Distinct())
        {
            output.WriteLine($"  dead letter fault: {fault}");
        }

        foreach (var (kind, cause) in poison.Kinds)
        {
            var faults = tally.PoisonFaults.Count(f => f.Contains(cause, StringComparison.Ordinal));
            output.WriteLine($"  poison '{kind}': {faults} dead letters with '{cause}' in their fault");
            Assert.Equal(poison.Count / poison.Kinds.Count, faults);
        }
    }

    [Fact]
    public async Task Five_hundred_dead_letters_are_replayed_while_new_events_flow_and_each_is_applied_once()
    {
        // Usage for a user without an account is a permanent fault while accounts are not opened on first use.
        await using var pipeline = await StartAsync(new TopologyOptions
        {
            ConsumerEnvironment = { ["Credits__CreateUnknownAccounts"] = "false", ["ADMIN_API_KEY"] = _adminKey },
        });
        var ledger = Ledger(pipeline, "replay");
        const int letters = 500;

        await Parallel.ForEachAsync(Enumerable.Range(0, letters), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (_, ct) => await ledger.SendNewAsync(ct));
        var before = await ledger.SettleAsync("500 usages for users without an account");
        Assert.Equal((letters, 0, letters), (before.Accepted, before.Applied, before.DeadLetters));
        Assert.Equal((long)letters, await LogRowsAsync(pipeline, "failed"));

        foreach (var user in Users)
        {
            await ledger.TopUpAsync(user, 10_000m, _adminKey);
        }

        var stream = ledger.StartStream();
        await ledger.WaitForAcceptedAsync(40, "new events flowing before the replay");
        var acceptedAtReplay = ledger.Accepted;
        var clock = Stopwatch.StartNew();
        var replay = await pipeline.RunOpsAsync("dead-letters", "replay", "--queue", UsageLedger.Queue);
        var replaySeconds = clock.Elapsed.TotalSeconds;
        output.WriteLine(replay.Output + replay.Error);
        Assert.Equal(0, replay.ExitCode);
        Assert.Contains($"replayed {letters} of {letters}", replay.Output);
        await ledger.WaitForAcceptedAsync(100, "new events after the replay");
        var flowed = ledger.Accepted - acceptedAtReplay;
        await stream.StopAsync();

        var after = await ledger.SettleAsync("500 dead letters replayed while new events flow");
        output.WriteLine($"  replayed {letters} dead letters in {replaySeconds:0.0} s ({letters / replaySeconds:0} a second, publish confirmed before each ack) " +
                         $"while {flowed}+ new events were accepted; all applied {clock.Elapsed.TotalSeconds:0.0} s after the replay began");
        Assert.Equal((after.Accepted, 0), (after.Applied, after.DeadLetters));
        Assert.True(after.Accepted >= letters + 140);
        // Each replayed usage's log row, recorded failed, now says processed: replaced, not added to.
        Assert.Equal((0L, (long)after.Accepted), (await LogRowsAsync(pipeline, "failed"), await LogRowsAsync(pipeline, "processed")));
    }

    private static Task<long> LogRowsAsync(PipelineTopology pipeline, string status) =>
        pipeline.CountAsync($"""SELECT count(*) FROM credits_webhook_logs WHERE "Status" = '{status}'""", "Credits");

    private Task<PipelineTopology> StartAsync(TopologyOptions options)
    {
        options.Consumers.Clear();
        options.Consumers.Add(ConsumerService.Credits);
        options.IngressEnvironment["NEWAPI_WEBHOOK_SECRET"] = _secret;
        return PipelineTopology.StartAsync(services, options);
    }

    private UsageLedger Ledger(PipelineTopology pipeline, string prefix) => new(services, pipeline, _secret, prefix, Users, output);

    private sealed record Poison(int Count, IReadOnlyList<(string Kind, string Cause)> Kinds);

    /// <summary>
    /// Publishes, around Ingress, messages no retry can fix: a body that is not JSON, usage without a message id,
    /// with a negative quota, and with an empty request id; three of each.
    /// </summary>
    private async Task<Poison> PublishPoisonAsync(PipelineTopology pipeline)
    {
        var factory = new ConnectionFactory { Uri = new Uri(services.RabbitMq, pipeline.Name) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var kinds = new List<(string Kind, string Cause)>
        {
            ("not JSON", "System.Text.Json"),
            ("no message id", "without a MessageId"),
            ("negative quota", "quota -5 is negative"),
            ("empty request id", "no request id"),
        };
        const int each = 3;
        for (var i = 0; i < each; i++)
        {
            await PublishAsync(channel, Guid.NewGuid(), "{\"messageId\": \"not json at all"u8.ToArray());
            await PublishAsync(channel, null, Envelope(null, $"poison-no-id-{i}", 100));
            var id = Guid.NewGuid();
            await PublishAsync(channel, id, Envelope(id, $"poison-negative-{i}", -5));
            id = Guid.NewGuid();
            await PublishAsync(channel, id, Envelope(id, "", 100));
        }

        return new Poison(kinds.Count * each, kinds);
    }

    private static byte[] Envelope(Guid? messageId, string requestId, long quota) => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
    {
        ["messageId"] = messageId,
        ["sourceAddress"] = "rabbitmq://127.0.0.1/fault-suite",
        ["destinationAddress"] = "rabbitmq://127.0.0.1/" + UsageExchange,
        ["messageType"] = new[] { "urn:message:" + UsageExchange },
        ["message"] = new
        {
            requestId,
            userId = "u-1",
            quota,
            occurredAt = DateTimeOffset.UtcNow,
            receiptId = Guid.NewGuid(),
        },
        ["sentTime"] = DateTime.UtcNow,
    });

    private static async Task PublishAsync(IChannel channel, Guid? messageId, byte[] body)
    {
        var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", Persistent = true };
        if (messageId is not null)
        {
            properties.MessageId = messageId.ToString();
        }

        await channel.BasicPublishAsync(UsageExchange, routingKey: "", mandatory: true, properties, body);
    }
}
