using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Pipeline.IntegrationTests.Credits;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.IntegrationTests.Interop;
using Xunit.Abstractions;
using static Pipeline.IntegrationTests.Rooms.LiveKitWebhooks;

namespace Pipeline.IntegrationTests.Retention;

/// <summary>
/// Rows past their retention are deleted by the running services, and nothing else is: each test ages some rows by
/// moving their time column back two hours (retention is one hour or one minute, purges run every 200 ms), so which
/// rows are past the line never depends on how fast the machine is.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class RetentionTests(TestServices services, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    /// <summary>Purges and gauges every fraction of a second instead of minutes.</summary>
    private static readonly Dictionary<string, string> Fast = new()
    {
        ["Retention__Interval"] = "00:00:00.200",
        ["Retention__PauseBetweenBatches"] = "00:00:00",
        ["Telemetry__GaugeRefreshInterval"] = "00:00:00.500",
    };

    private static Dictionary<string, string> With(params (string Key, string Value)[] settings)
    {
        var all = new Dictionary<string, string>(Fast);
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }

        return all;
    }

    [Fact]
    public async Task Receipts_are_kept_for_the_dedup_window_and_until_published_then_deleted_and_the_ledger_never()
    {
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [ConsumerService.Credits],
            // The two hours below pass in the database only: Ingress must not remember "aged" as recorded moments ago.
            IngressEnvironment = With(("NEWAPI_WEBHOOK_SECRET", secret), ("Ingress__ReceiptRetention", "01:00:00"), ("Outbox__RetainSent", "01:00:00"),
                ("Ingress__RateLimit__RepeatWindow", "00:00:00")),
            ConsumerEnvironment = With(("Inbox__Retention", "01:00:00"), ("Credits__WebhookLogRetention", "01:00:00")),
        });
        var credits = pipeline.ConsumerHttp[ConsumerService.Credits];
        var run = Guid.NewGuid().ToString("N")[..8];
        string Body(string name) => NewApiEvents.Consume($"req-{name}-{run}", $"user-{name}-{run}", 500_000);
        async Task<bool> PostAsync(string body)
        {
            using var response = await pipeline.IngressHttp.SendAsync(NewApiEvents.SignedRequest(body, secret));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean();
        }

        string Receipt(string name) => $"""FROM ingress_receipts WHERE "DedupKey" = 'consume:req-{name}-{run}'""";
        string OutboxOf(string name) => $"""FROM ingress_outbox WHERE "ReceiptId" IN (SELECT "Id" {Receipt(name)})""";

        // "aged" and "fresh" are published and applied; a repeat of "aged" inside the window is a duplicate.
        Assert.False(await PostAsync(Body("aged")));
        Assert.False(await PostAsync(Body("fresh")));
        Assert.True(await PostAsync(Body("aged")));
        await Eventually.WaitAsync(() => pipeline.CountAsync("""SELECT count(*) FROM credits_ledger"""), n => n == 2, Deadline, "both deducted", pipeline.Diagnostics);
        var agedMessage = await pipeline.ScalarAsync<Guid>($"""SELECT "Id" {OutboxOf("aged")}""");
        var freshMessage = await pipeline.ScalarAsync<Guid>($"""SELECT "Id" {OutboxOf("fresh")}""");
        await Eventually.WaitAsync(() => pipeline.CountAsync($"""SELECT count(*) FROM credits_inbox WHERE "MessageId" IN ('{agedMessage}', '{freshMessage}')"""),
            n => n == 2, Deadline, "both in the Credits inbox", pipeline.Diagnostics);

        // Ingress marks a row sent a moment after the broker's confirm, which may come after Credits has the message: the
        // rows are moved back in time below only once marked (an unmarked row would be marked afterwards, as sent now).
        await Eventually.WaitAsync(() => pipeline.CountAsync($"""SELECT count(*) FROM ingress_outbox WHERE "Id" IN ('{agedMessage}', '{freshMessage}') AND "SentAt" IS NOT NULL"""),
            n => n == 2, Deadline, "both outbox rows marked sent", pipeline.Diagnostics);

        // "unsent" is accepted while the broker is away, so its outbox row is not published.
        pipeline.BrokerProxy.Cut();
        Assert.False(await PostAsync(Body("unsent")));
        Assert.Equal(1, await pipeline.CountAsync($"""SELECT count(*) {OutboxOf("unsent")} AND "SentAt" IS NULL"""));

        // Two hours pass for "aged" and "unsent" (receipts; "aged"'s outbox row, inbox row and log entry) and for every ledger entry.
        await pipeline.CountAsync($"""
            UPDATE ingress_outbox SET "SentAt" = "SentAt" - interval '2 hours' WHERE "Id" = '{agedMessage}';
            UPDATE credits_inbox SET "ProcessedAt" = "ProcessedAt" - interval '2 hours' WHERE "MessageId" = '{agedMessage}';
            UPDATE credits_webhook_logs SET "ProcessedAt" = "ProcessedAt" - interval '2 hours' WHERE "MessageId" = '{agedMessage}';
            UPDATE credits_ledger SET "CreatedAt" = "CreatedAt" - interval '400 days';
            UPDATE ingress_receipts SET "ReceivedAt" = "ReceivedAt" - interval '2 hours'
              WHERE "DedupKey" IN ('consume:req-aged-{run}', 'consume:req-unsent-{run}');
            SELECT 0
            """);

        await Eventually.WaitAsync(() => pipeline.CountAsync($"SELECT count(*) {Receipt("aged")}"), n => n == 0, Deadline, "the aged receipt deleted", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.CountAsync($"""SELECT count(*) FROM ingress_outbox WHERE "Id" = '{agedMessage}'"""), n => n == 0, Deadline,
            "the aged outbox row deleted", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.CountAsync($"""SELECT count(*) FROM credits_inbox WHERE "MessageId" = '{agedMessage}'"""), n => n == 0, Deadline,
            "the aged inbox row deleted", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.CountAsync($"""SELECT count(*) FROM credits_webhook_logs WHERE "MessageId" = '{agedMessage}'"""), n => n == 0,
            Deadline, "the aged log entry deleted", pipeline.Diagnostics);

        // The purge that took "aged" saw "unsent" as just as old, and kept it for its unpublished message.
        Assert.Equal(1, await pipeline.CountAsync($"SELECT count(*) {Receipt("unsent")}"));
        Assert.Equal(1, await pipeline.CountAsync($"SELECT count(*) {Receipt("fresh")}"));
        Assert.Equal(1, await pipeline.CountAsync($"""SELECT count(*) FROM ingress_outbox WHERE "Id" = '{freshMessage}'"""));
        Assert.Equal(1, await pipeline.CountAsync($"""SELECT count(*) FROM credits_inbox WHERE "MessageId" = '{freshMessage}'"""));
        Assert.Equal(1, await pipeline.CountAsync($"""SELECT count(*) FROM credits_webhook_logs WHERE "MessageId" = '{freshMessage}'"""));
        Assert.Equal(2, await pipeline.CountAsync("SELECT count(*) FROM credits_ledger"));

        // Past the window a repeat is accepted again; the ledger, kept for good, still deducts the request id once.
        Assert.False(await PostAsync(Body("aged")));
        pipeline.BrokerProxy.Restore();
        await Eventually.WaitAsync(() => pipeline.CountAsync($"SELECT count(*) {Receipt("unsent")}"), n => n == 0, Deadline,
            "the unsent receipt deleted once published", pipeline.Diagnostics);
        var repeated = await pipeline.ScalarAsync<Guid>($"""SELECT "Id" {OutboxOf("aged")}""");
        await Eventually.WaitAsync(() => pipeline.CountAsync($"""SELECT count(*) FROM credits_inbox WHERE "MessageId" = '{repeated}'"""), n => n == 1, Deadline,
            "the repeat handled by Credits", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.CountAsync("SELECT count(*) FROM credits_ledger"), n => n == 3, Deadline, "unsent deducted", pipeline.Diagnostics);
        Assert.Equal(1, await pipeline.CountAsync($"SELECT count(*) FROM credits_ledger WHERE \"Reference\" = 'req-aged-{run}'"));
        var balance = await credits.GetFromJsonAsync<JsonElement>($"api/accounts/user-aged-{run}");
        Assert.Equal(-1m, balance.GetProperty("balance").GetDecimal());

        // The row-count gauges follow the tables, and the logs say what each purge removed.
        var receipts = await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts");
        Assert.Equal(2, receipts); // fresh, and aged accepted again
        await WaitForGaugeAsync(pipeline, pipeline.IngressManagement, "ingress_receipts", receipts);
        await WaitForGaugeAsync(pipeline, pipeline.ConsumerManagement[ConsumerService.Credits], "credits_ledger", 3);
        Assert.Contains("Retention: deleted 1 rows from ingress_receipts older than 01:00:00", pipeline.Ingress.FullOutput());
        Assert.Contains("Retention: deleted 1 rows from ingress_outbox older than 01:00:00", pipeline.Ingress.FullOutput());
        Assert.Contains("Retention: deleted 1 rows from credits_inbox older than 01:00:00", pipeline.Consumers[ConsumerService.Credits].FullOutput());
    }

    [Fact]
    public async Task Killed_sandboxes_and_inbox_rows_past_retention_are_deleted_and_running_ones_stay_however_old()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            // An hour, like the inbox: the fresh killed sandbox must outlive however long a slow run takes to get to its check.
            ConsumerEnvironment = With(("Sandboxes__KilledRetention", "01:00:00"), ("Inbox__Retention", "01:00:00")),
        });
        var at = DateTime.UtcNow;
        foreach (var body in new[]
        {
            E2bEvents.V2("create", "sbx-old-killed", at), E2bEvents.V2("kill", "sbx-old-killed", at.AddSeconds(5)),
            E2bEvents.V2("create", "sbx-old-running", at),
            E2bEvents.V2("create", "sbx-new-killed", at), E2bEvents.V2("kill", "sbx-new-killed", at.AddSeconds(5)),
        })
        {
            Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(body)).StatusCode);
        }

        await Eventually.WaitAsync(() => pipeline.CountAsync("SELECT count(*) FROM sandboxes_inbox"), n => n == 5, Deadline, "every event applied", pipeline.Diagnostics);
        Assert.Equal(2, await pipeline.CountAsync("""SELECT count(*) FROM sandboxes WHERE "State" = 'killed'"""));

        // Two hours pass for one killed and one running sandbox, and for the two oldest inbox rows.
        var agedInbox = await pipeline.CountAsync("""
            UPDATE sandboxes SET "UpdatedAt" = "UpdatedAt" - interval '2 hours' WHERE "SandboxId" IN ('sbx-old-killed', 'sbx-old-running');
            UPDATE sandboxes_inbox SET "ProcessedAt" = "ProcessedAt" - interval '2 hours'
              WHERE "MessageId" IN (SELECT "MessageId" FROM sandboxes_inbox ORDER BY "ProcessedAt" LIMIT 2);
            SELECT count(*) FROM sandboxes_inbox WHERE "ProcessedAt" < now() - interval '1 hour'
            """);
        Assert.Equal(2, agedInbox);

        await Eventually.WaitAsync(() => pipeline.GetSandboxAsync("sbx-old-killed"), s => s is null, Deadline, "the old killed sandbox deleted", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.CountAsync("SELECT count(*) FROM sandboxes_inbox"), n => n == 3, Deadline, "the old inbox rows deleted", pipeline.Diagnostics);

        Assert.Equal("running", (await pipeline.GetSandboxAsync("sbx-old-running"))?.GetProperty("state").GetString());
        Assert.Equal("killed", (await pipeline.GetSandboxAsync("sbx-new-killed"))?.GetProperty("state").GetString());
        Assert.Equal(0, await pipeline.CountAsync("""SELECT count(*) FROM sandboxes_inbox WHERE "ProcessedAt" < now() - interval '1 hour'"""));
        await WaitForGaugeAsync(pipeline, pipeline.SandboxesManagement, "sandboxes", 2);
        await WaitForGaugeAsync(pipeline, pipeline.SandboxesManagement, "sandboxes_inbox", 3);
        var log = pipeline.Sandboxes.FullOutput();
        Assert.Contains("Retention: deleted 1 rows from sandboxes older than 01:00:00", log);
        Assert.Contains("Retention: deleted 2 rows from sandboxes_inbox older than 01:00:00", log);
    }

    [Fact]
    public async Task A_finished_room_past_retention_is_deleted_with_its_sessions_tracks_egress_and_events_and_an_active_one_stays()
    {
        var apiKey = "APIretention" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var apiSecret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [ConsumerService.Rooms],
            IngressEnvironment = { ["LIVEKIT_API_KEY"] = apiKey, ["LIVEKIT_API_SECRET"] = apiSecret },
            ConsumerEnvironment = With(("Rooms__FinishedRetention", "00:01:00")),
        });
        var rooms = pipeline.ConsumerHttp[ConsumerService.Rooms];
        var t0 = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddMinutes(-10).ToUnixTimeSeconds());
        string Id() => "EV_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        IEnumerable<string> Session(string sid, string name, bool finish)
        {
            var room = Room(sid, name, t0);
            var who = Participant("PA_" + name, "guest-" + name, t0.AddSeconds(5));
            yield return Body("room_started", Id(), t0, room);
            yield return Body("participant_joined", Id(), t0.AddSeconds(5), room, who);
            yield return Body("track_published", Id(), t0.AddSeconds(6), room, who, VideoTrack("TR_" + name));
            yield return EgressBody("egress_started", Id(), t0.AddSeconds(7), sid, name, "EG_" + name);
            if (finish)
            {
                yield return Body("room_finished", Id(), t0.AddSeconds(60), room);
            }
        }

        var finishedSid = "RM_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var activeSid = "RM_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        foreach (var body in Session(finishedSid, "done", finish: true).Concat(Session(activeSid, "live", finish: false)))
        {
            using var reply = await pipeline.IngressHttp.SendAsync(LiveKitTestSigner.SignedRequest(body, apiKey, apiSecret));
            Assert.True(reply.IsSuccessStatusCode, $"{(int)reply.StatusCode} {await reply.Content.ReadAsStringAsync()}");
        }

        string RowsOf(string sid) => $"""
            SELECT (SELECT count(*) FROM rooms WHERE "Sid" = '{sid}')
                 + (SELECT count(*) FROM room_participant_sessions WHERE "RoomSid" = '{sid}')
                 + (SELECT count(*) FROM room_tracks WHERE "RoomSid" = '{sid}')
                 + (SELECT count(*) FROM room_egress_results WHERE "RoomSid" = '{sid}')
                 + (SELECT count(*) FROM room_events WHERE "RoomSid" = '{sid}')
            """;
        // room, session, track, egress and one applied event id per event (5 and 4).
        await Eventually.WaitAsync(() => pipeline.CountAsync(RowsOf(finishedSid), "Rooms"), n => n == 4 + 5, Deadline, "the finished room recorded", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.CountAsync(RowsOf(activeSid), "Rooms"), n => n == 4 + 4, Deadline, "the active room recorded", pipeline.Diagnostics);
        Assert.Equal("finished", (await rooms.GetFromJsonAsync<JsonElement>($"api/rooms/sid/{finishedSid}")).GetProperty("status").GetString());

        // Two hours pass for both rooms.
        await pipeline.CountAsync($"""UPDATE rooms SET "UpdatedAt" = "UpdatedAt" - interval '2 hours' WHERE "Sid" IN ('{finishedSid}', '{activeSid}'); SELECT 0""", "Rooms");

        await Eventually.WaitAsync(() => pipeline.CountAsync(RowsOf(finishedSid), "Rooms"), n => n == 0, Deadline,
            "the finished room and all its rows deleted", pipeline.Diagnostics);
        Assert.Equal(HttpStatusCode.NotFound, (await rooms.GetAsync($"api/rooms/sid/{finishedSid}")).StatusCode);
        Assert.Equal(4 + 4, await pipeline.CountAsync(RowsOf(activeSid), "Rooms"));
        var active = await rooms.GetFromJsonAsync<JsonElement>($"api/rooms/sid/{activeSid}");
        Assert.Equal(("active", 1), (active.GetProperty("status").GetString(), active.GetProperty("participants").GetInt32()));
        await WaitForGaugeAsync(pipeline, pipeline.ConsumerManagement[ConsumerService.Rooms], "rooms", 1);
        await WaitForGaugeAsync(pipeline, pipeline.ConsumerManagement[ConsumerService.Rooms], "room_tracks", 1);
        Assert.Contains("Retention: deleted 1 rows from rooms older than 00:01:00, with 8 rows of their sessions, tracks, egress results and events",
            pipeline.Consumers[ConsumerService.Rooms].FullOutput());
    }

    [Fact]
    public async Task Two_replicas_purging_the_same_table_at_once_delete_each_row_once_while_webhooks_keep_being_accepted()
    {
        const int aged = 20_000;
        var settings = With(("Ingress__ReceiptRetention", "01:00:00"), ("Retention__BatchSize", "100"));
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions { IngressEnvironment = settings });
        await using var replica = new HostProcess("ingress-2", "Ingress", "Pipeline.Ingress",
            pipeline.Environment(pipeline.BrokerProxy.Port, "Ingress", settings));
        await replica.StartAsync();
        using var replicaHttp = new HttpClient { BaseAddress = replica.BaseAddress };
        using var replicaManagement = new HttpClient { BaseAddress = replica.ManagementAddress };

        // Webhooks to both replicas, before (which also warms them up) and while they purge.
        async Task<List<double>> AcceptAsync(string round)
        {
            var took = new List<double>();
            for (var i = 0; i < 40; i++)
            {
                var sent = Stopwatch.StartNew();
                var http = i % 2 == 0 ? pipeline.IngressHttp : replicaHttp;
                var body = E2bEvents.V2("create", $"sbx-{round}-{i}", DateTime.UtcNow);
                using var response = await http.SendAsync(E2bEvents.SignedRequest(body, pipeline.Secret, "webhooks/e2b"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                took.Add(sent.Elapsed.TotalMilliseconds);
            }

            return took;
        }

        static string Summary(List<double> took) => $"median {took.Order().ElementAt(took.Count / 2):0} ms, max {took.Max():0} ms";
        var before = await AcceptAsync("before");

        var clock = Stopwatch.StartNew();
        await pipeline.CountAsync($"""
            INSERT INTO ingress_receipts ("Id", "Provider", "DedupKey", "ReceivedAt", "Headers", "Body")
            SELECT gen_random_uuid(), 'e2b', 'aged-' || i, now() - interval '2 hours', '{"{}"}', convert_to('{"{}"}', 'UTF8')
            FROM generate_series(1, {aged}) AS i;
            SELECT 0
            """);
        var during = await AcceptAsync("during");
        var left = await pipeline.CountAsync("""SELECT count(*) FROM ingress_receipts WHERE "DedupKey" LIKE 'aged-%'""");

        await Eventually.WaitAsync(() => pipeline.CountAsync("""SELECT count(*) FROM ingress_receipts WHERE "DedupKey" LIKE 'aged-%'"""), n => n == 0, Deadline,
            "every aged receipt deleted", pipeline.Diagnostics);
        var purged = clock.Elapsed;

        var deleted = await Eventually.WaitAsync(async () =>
                (await MetricAsync(pipeline.IngressManagement, "pipeline_retention_deleted_rows_total", "ingress_receipts") ?? 0)
                + (await MetricAsync(replicaManagement, "pipeline_retention_deleted_rows_total", "ingress_receipts") ?? 0),
            n => n >= aged, Deadline, "both replicas' deleted counts", pipeline.Diagnostics);
        var mine = await MetricAsync(pipeline.IngressManagement, "pipeline_retention_deleted_rows_total", "ingress_receipts") ?? 0;
        output.WriteLine($"{aged} aged receipts purged by two replicas in batches of 100 within {purged.TotalSeconds:0.0} s " +
            $"(first replica {mine}, second {deleted - mine}). 40 accepts before: {Summary(before)}; 40 during ({left} aged rows " +
            $"still there after them): {Summary(during)}");

        Assert.Equal(aged, deleted); // every row deleted once, none counted by both
        Assert.Equal(80, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        foreach (var host in new[] { pipeline.Ingress, replica })
        {
            Assert.DoesNotContain("Retention: purging ingress_receipts failed", host.FullOutput());
        }
    }

    [Fact]
    public async Task A_large_table_is_measured_from_postgresql_statistics_without_reading_it()
    {
        // Gauges every half second; no purge during the test (it would scan the receipts' index).
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [],
            IngressEnvironment = new() { ["Telemetry__GaugeRefreshInterval"] = "00:00:00.500", ["Retention__Interval"] = "1.00:00:00" },
        });
        static string Insert(int from, int to) => $"""
            INSERT INTO ingress_receipts ("Id", "Provider", "DedupKey", "ReceivedAt", "Headers", "Body")
            SELECT gen_random_uuid(), 'bulk', 'bulk-' || g, now(), '[]', convert_to(repeat('x', 1000), 'UTF8')
            FROM generate_series({from}, {to}) AS g;
            SELECT 0
            """;
        const string scans = """SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'ingress_receipts'""";

        // About 14 MB, past the 8 MiB up to which a table is counted. Above it the gauge is PostgreSQL's statistics, which
        // an autovacuum during the test may replace with its own estimate (13,005 for 13,000 rows in one run): within 0.5%.
        await pipeline.CountAsync(Insert(1, 12_000));
        await WaitForGaugeAsync(pipeline, pipeline.IngressManagement, "ingress_receipts", 12_000, tolerance: 60);
        var before = await pipeline.CountAsync(scans);

        await pipeline.CountAsync(Insert(12_001, 13_000));
        await WaitForGaugeAsync(pipeline, pipeline.IngressManagement, "ingress_receipts", 13_000, tolerance: 65);
        Assert.Equal(before, await pipeline.CountAsync(scans));
        Assert.Equal(13_000, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
    }

    private static string EgressBody(string eventName, string eventId, DateTimeOffset at, string roomSid, string roomName, string egressId) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["event"] = eventName,
            ["id"] = eventId,
            ["createdAt"] = Seconds(at),
            ["egressInfo"] = new Dictionary<string, object?>
            {
                ["egressId"] = egressId,
                ["roomId"] = roomSid,
                ["roomName"] = roomName,
                ["status"] = "EGRESS_ACTIVE",
                ["startedAt"] = (at.ToUnixTimeMilliseconds() * 1_000_000).ToString(CultureInfo.InvariantCulture),
            },
        });

    private static Task WaitForGaugeAsync(PipelineTopology pipeline, HttpClient management, string table, long expected, long tolerance = 0) =>
        Eventually.WaitAsync(() => MetricAsync(management, "pipeline_table_rows", table), v => Math.Abs((v ?? double.NaN) - expected) <= tolerance,
            Deadline, $"pipeline_table_rows{{table=\"{table}\"}} to be {expected}" + (tolerance > 0 ? $" ± {tolerance}" : ""), pipeline.Diagnostics);

    /// <summary>One series of a host's Prometheus metrics (from its management port), labelled by table; null while it has none.</summary>
    private static async Task<double?> MetricAsync(HttpClient management, string metric, string table)
    {
        var prefix = $"{metric}{{table=\"{table}\"}} ";
        var line = (await management.GetStringAsync("metrics")).Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[prefix.Length..], CultureInfo.InvariantCulture);
    }
}
