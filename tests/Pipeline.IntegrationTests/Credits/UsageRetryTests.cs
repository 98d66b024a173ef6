using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Npgsql;
using Pipeline.IntegrationTests.Faults;
using Pipeline.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Credits;

/// <summary>
/// The usage consumer is retried by the bus's policy alone (docs/retries.md): credits-usage has <c>Bus:RetryLimit</c>
/// in-memory retries and no delayed ones, so a usage event is tried at most <c>Bus:RetryLimit</c> + 1 times, whatever
/// makes it fail. A database trigger makes the ledger insert of chosen requests fail the way a lost race on the request
/// id does (a unique violation, a DbUpdateException) and counts each attempt in a sequence, which a rolled-back
/// transaction does not undo. A message being retried is written alone, so each attempt is one write.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class UsageRetryTests(TestServices services, ITestOutputHelper output)
{
    private const int RetryLimit = 3;
    private const int PolicyAttempts = RetryLimit + 1;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private readonly string _secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    [Fact]
    public async Task A_usage_event_that_always_loses_its_race_gets_the_policys_attempts_and_one_that_wins_the_last_is_applied_once()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [ConsumerService.Credits],
            IngressEnvironment = { ["NEWAPI_WEBHOOK_SECRET"] = _secret },
            ConsumerEnvironment = { ["Bus__RetryLimit"] = RetryLimit.ToString(CultureInfo.InvariantCulture) },
        });
        // The account exists first: an attempt that creates it could lose that race to another's, which no trigger counts.
        await SendAsync(pipeline, "usage-plain", "u-retry");
        await Eventually.WaitAsync(() => pipeline.CountAsync("""SELECT count(*) FROM credits_ledger WHERE "Reference" = 'usage-plain'""", "Credits"),
            n => n == 1, Deadline, "usage-plain deducted", pipeline.Diagnostics);

        // Loses every attempt; and loses every attempt but the policy's last.
        await LoseRacesAsync(pipeline, "usage-poison", int.MaxValue);
        await LoseRacesAsync(pipeline, "usage-late", PolicyAttempts - 1);

        // One after the other, the second once the first's first attempt is made: deliveries consumed together share a
        // transaction (group commit), and a batch refused for another's row would add a shared write to a message's count.
        await SendAsync(pipeline, "usage-poison", "u-retry");
        await Eventually.WaitAsync(() => AttemptsAsync(pipeline, "usage-poison"), n => n >= 1, Deadline, "the first attempt of usage-poison", pipeline.Diagnostics);
        await SendAsync(pipeline, "usage-late", "u-retry");

        await Eventually.WaitAsync(() => Broker.ReadyAsync(services, pipeline, UsageLedger.ErrorQueue), n => n == 1, Deadline,
            "the poison usage event in the dead letters", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.CountAsync("""SELECT count(*) FROM credits_ledger WHERE "Kind" = 'deduction'"""), n => n == 2, Deadline,
            "the other two deducted", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.QueueDepthAsync(UsageLedger.Queue), d => d == (0, 0), Deadline, "credits-usage empty", pipeline.Diagnostics);

        var poisonAttempts = await AttemptsAsync(pipeline, "usage-poison");
        var lateAttempts = await AttemptsAsync(pipeline, "usage-late");
        output.WriteLine($"Bus:RetryLimit {RetryLimit}: the poison event was tried {poisonAttempts} times, the late winner {lateAttempts} times");
        Assert.Equal(PolicyAttempts, poisonAttempts);
        Assert.Equal(PolicyAttempts, lateAttempts);

        Assert.Equal(
            [("usage-late", "processed"), ("usage-plain", "processed"), ("usage-poison", "failed")],
            await StatusesAsync(pipeline));
        Assert.Equal(-4m, await pipeline.ScalarAsync<decimal>("""SELECT "Balance" FROM credits_accounts WHERE "UserId" = 'u-retry'"""));
        Assert.Equal(1u, await Broker.ReadyAsync(services, pipeline, UsageLedger.ErrorQueue));
    }

    [Fact]
    public async Task A_balance_changed_since_it_was_read_fails_the_attempt_and_the_retry_deducts_once()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [ConsumerService.Credits],
            IngressEnvironment = { ["NEWAPI_WEBHOOK_SECRET"] = _secret },
            ConsumerEnvironment = { ["Bus__RetryLimit"] = RetryLimit.ToString(CultureInfo.InvariantCulture) },
        });
        await SendAsync(pipeline, "usage-opens");
        await Eventually.WaitAsync(() => pipeline.CountAsync("""SELECT count(*) FROM credits_ledger WHERE "UserId" = 'u-stale'""", "Credits"), n => n == 1, Deadline,
            "the first usage deducted", pipeline.Diagnostics);

        // The next update of the account changes nothing, as when another replica updated it after it was read.
        await ExecuteAsync(pipeline, """
            CREATE SEQUENCE stale_updates;
            CREATE FUNCTION stale_update() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF nextval('stale_updates') = 1 THEN
                RETURN NULL;
              END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER stale_update BEFORE UPDATE ON credits_accounts FOR EACH ROW EXECUTE FUNCTION stale_update();
            """);
        await SendAsync(pipeline, "usage-stale");

        await Eventually.WaitAsync(() => pipeline.CountAsync("""SELECT count(*) FROM credits_ledger WHERE "UserId" = 'u-stale'""", "Credits"), n => n == 2, Deadline,
            "the second usage deducted", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.QueueDepthAsync(UsageLedger.Queue), d => d == (0, 0), Deadline, "credits-usage empty", pipeline.Diagnostics);
        Assert.Equal(2, await pipeline.CountAsync("SELECT last_value FROM stale_updates", "Credits")); // refused once, then applied
        Assert.Equal(-4m, await pipeline.ScalarAsync<decimal>("""SELECT "Balance" FROM credits_accounts WHERE "UserId" = 'u-stale'""", "Credits"));
        Assert.Equal(-4m, await pipeline.ScalarAsync<decimal>("""SELECT "BalanceAfter" FROM credits_ledger WHERE "Reference" = 'usage-stale'""", "Credits"));
        Assert.Equal([("usage-opens", "processed"), ("usage-stale", "processed")], await StatusesAsync(pipeline));
        Assert.Equal(0u, await Broker.ReadyAsync(services, pipeline, UsageLedger.ErrorQueue));
    }

    private async Task SendAsync(PipelineTopology pipeline, string requestId, string userId = "u-stale")
    {
        using var response = await pipeline.IngressHttp.SendAsync(NewApiEvents.SignedRequest(NewApiEvents.Consume(requestId, userId, 1_000_000), _secret));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Makes the first <paramref name="losses"/> ledger inserts for a request fail, counting every attempt.</summary>
    private static async Task LoseRacesAsync(PipelineTopology pipeline, string requestId, int losses)
    {
        var name = requestId.Replace('-', '_');
        await ExecuteAsync(pipeline, $"""
            CREATE SEQUENCE {name}_attempts;
            CREATE FUNCTION {name}_loses() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW."Reference" = '{requestId}' THEN
                IF nextval('{name}_attempts') <= {losses} THEN
                  RAISE EXCEPTION 'request {requestId} was deducted concurrently (test trigger)' USING ERRCODE = 'unique_violation';
                END IF;
              END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER {name}_loses BEFORE INSERT ON credits_ledger FOR EACH ROW EXECUTE FUNCTION {name}_loses();
            """);
    }

    private static Task<long> AttemptsAsync(PipelineTopology pipeline, string requestId) =>
        pipeline.CountAsync($"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {requestId.Replace('-', '_')}_attempts", "Credits");

    private static async Task<List<(string, string)>> StatusesAsync(PipelineTopology pipeline)
    {
        await using var connection = new NpgsqlConnection(pipeline.DatabaseOf("Credits"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "EventId", "Status" FROM credits_webhook_logs ORDER BY "EventId" """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var statuses = new List<(string, string)>();
        while (await reader.ReadAsync())
        {
            statuses.Add((reader.GetString(0), reader.GetString(1)));
        }

        return statuses;
    }

    private static async Task ExecuteAsync(PipelineTopology pipeline, string sql)
    {
        await using var connection = new NpgsqlConnection(pipeline.DatabaseOf("Credits"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
