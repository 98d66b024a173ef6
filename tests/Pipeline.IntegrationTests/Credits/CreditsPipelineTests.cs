using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Credits;

/// <summary>
/// new-api usage end to end on real services: HTTP → Ingress → outbox → RabbitMQ → Credits service → ledger, balances
/// and the Credits service's own outbox for alerts.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class CreditsPipelineTests(TestServices services, ITestOutputHelper output)
{
    private const decimal QuotaPerCredit = 500_000m;
    private const string LowExchange = "Pipeline.Messages.Credits:CreditBalanceLowV1";
    private const string ExhaustedExchange = "Pipeline.Messages.Credits:CreditsExhaustedV1";
    private const string UsageExchange = "Pipeline.Messages.Credits:UsageRecordedV1";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    private readonly string _secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
    private readonly string _adminKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    private Task<PipelineTopology> StartAsync(bool keepSent = false) => PipelineTopology.StartAsync(services, new TopologyOptions
    {
        Consumers = [ConsumerService.Credits],
        IngressEnvironment = { ["NEWAPI_WEBHOOK_SECRET"] = _secret },
        ConsumerEnvironment = keepSent
            ? new() { ["ADMIN_API_KEY"] = _adminKey, ["Outbox__RetainSent"] = "01:00:00" }
            : new() { ["ADMIN_API_KEY"] = _adminKey },
    });

    [Fact]
    public async Task A_thousand_concurrent_usage_events_with_duplicates_deduct_each_request_exactly_once()
    {
        await using var pipeline = await StartAsync();
        var credits = pipeline.ConsumerHttp[ConsumerService.Credits];
        const int distinct = 800, resent = 200, users = 8;

        // Half the users have new-api's numeric ids, half a fork's string ids.
        var random = new Random(20261122);
        var userIds = Enumerable.Range(0, users).Select(i => i < users / 2 ? (object)(1000L + i) : $"acct-{i}").ToArray();
        var events = Enumerable.Range(0, distinct).Select(i =>
        {
            var user = userIds[random.Next(users)];
            var quota = (long)random.Next(1, 2_000_000);
            var requestId = $"req-{i:D5}-{Guid.NewGuid():N}";
            return (RequestId: requestId, User: user.ToString()!, Quota: quota, Body: NewApiEvents.Consume(requestId, user, quota));
        }).ToList();
        var sends = events.Select(e => e.Body).Concat(Enumerable.Range(0, resent).Select(_ => events[random.Next(distinct)].Body))
            .OrderBy(_ => random.Next()).ToList();

        var duplicates = 0;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(sends, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (body, ct) =>
        {
            using var response = await pipeline.IngressHttp.SendAsync(NewApiEvents.SignedRequest(body, _secret), ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var reply = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            if (reply.GetProperty("duplicate").GetBoolean())
            {
                Interlocked.Increment(ref duplicates);
            }
        });
        var sendSeconds = clock.Elapsed.TotalSeconds;

        await Eventually.WaitAsync(() => pipeline.CountAsync("""SELECT count(*) FROM ingress_outbox WHERE "SentAt" IS NULL"""), n => n == 0, Deadline,
            "the Ingress outbox to be published", pipeline.Diagnostics);
        var publishedSeconds = clock.Elapsed.TotalSeconds;
        await Eventually.WaitAsync(() => pipeline.CountAsync("SELECT count(*) FROM credits_inbox"), n => n >= distinct, Deadline,
            $"all {distinct} usage messages applied", pipeline.Diagnostics);
        var appliedSeconds = clock.Elapsed.TotalSeconds;
        await Eventually.WaitAsync(() => pipeline.QueueDepthAsync("credits-usage"), d => d == (0, 0), Deadline, "credits-usage to be empty", pipeline.Diagnostics);
        var conflicts = await ScrapeAsync(pipeline.ConsumerManagement[ConsumerService.Credits], "pipeline_credits_conflicts_total");

        output.WriteLine($"{sends.Count} usage webhooks ({distinct} distinct, {resent} re-sent) over {users} users, 16 in flight:");
        output.WriteLine($"  accepted in {sendSeconds:0.00} s = {sends.Count / sendSeconds:0} events/s through Ingress");
        output.WriteLine($"  published by the Ingress outbox {publishedSeconds:0.00} s after the first send");
        output.WriteLine($"  all applied {appliedSeconds:0.00} s after the first send, {appliedSeconds - sendSeconds:0.00} s after the last " +
                         $"({distinct / appliedSeconds:0} deductions/s end to end)");
        output.WriteLine($"  {conflicts} deductions retried after losing an optimistic-concurrency race on an account " +
                         "(deductions from one account take turns within a process, so only replicas race)");

        Assert.Equal(resent, duplicates);
        Assert.Equal(distinct, await pipeline.CountAsync("""SELECT count(*) FROM ingress_receipts WHERE "Provider" = 'new-api'"""));
        Assert.Equal(distinct, await pipeline.CountAsync("SELECT count(*) FROM credits_inbox"));
        Assert.Equal(distinct, await pipeline.CountAsync("""SELECT count(*) FROM credits_ledger WHERE "Kind" = 'deduction'"""));
        Assert.Equal(distinct, await pipeline.CountAsync("""SELECT count(DISTINCT "Reference") FROM credits_ledger"""));
        Assert.Equal(distinct, await pipeline.CountAsync("""SELECT count(*) FROM credits_webhook_logs WHERE "Status" = 'processed'"""));
        Assert.Equal(0, await pipeline.CountAsync("""SELECT count(*) FROM credits_webhook_logs WHERE "Status" <> 'processed'"""));

        // Every balance is the sum of its ledger, and every ledger is numbered 1..n without a gap.
        Assert.Equal(0, await pipeline.CountAsync("""
            SELECT count(*) FROM credits_accounts a
            WHERE a."Balance" <> (SELECT coalesce(sum(l."Amount"), 0) FROM credits_ledger l WHERE l."UserId" = a."UserId")
               OR a."LastSequence" <> (SELECT count(*) FROM credits_ledger l WHERE l."UserId" = a."UserId")
               OR a."LastSequence" <> (SELECT coalesce(max(l."Sequence"), 0) FROM credits_ledger l WHERE l."UserId" = a."UserId")
            """));

        foreach (var group in events.GroupBy(e => e.User))
        {
            var expected = -group.Sum(e => e.Quota / QuotaPerCredit);
            var account = await credits.GetFromJsonAsync<JsonElement>($"api/accounts/{group.Key}");
            output.WriteLine($"  user {group.Key}: {group.Count()} calls, balance {account.GetProperty("balance").GetDecimal()} (expected {expected})");
            Assert.Equal(expected, account.GetProperty("balance").GetDecimal());
            Assert.Equal(group.Count(), account.GetProperty("entryCount").GetInt64());
        }

        // Accounts opened by usage start at 0, so none crossed a mark and no alert was written.
        Assert.Equal(0, await pipeline.CountAsync("SELECT count(*) FROM credits_outbox"));

        // The ledger API pages through one user's entries, newest first, without losing or repeating one.
        var someone = events[0].User;
        var seen = new List<long>();
        long? before = null;
        do
        {
            var page = await credits.GetFromJsonAsync<JsonElement>($"api/accounts/{someone}/ledger?limit=37" + (before is null ? "" : $"&before={before}"));
            seen.AddRange(page.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("sequence").GetInt64()));
            before = page.GetProperty("nextBefore").ValueKind == JsonValueKind.Null ? null : page.GetProperty("nextBefore").GetInt64();
        }
        while (before is not null);
        Assert.Equal(Enumerable.Range(1, events.Count(e => e.User == someone)).Select(i => (long)i).Reverse(), seen);
    }

    [Fact]
    public async Task A_top_up_repeated_is_applied_once_and_operator_errors_are_refused()
    {
        await using var pipeline = await StartAsync();
        var credits = pipeline.ConsumerHttp[ConsumerService.Credits];

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await TopUpAsync(pipeline, "u-top", """{"amount": 10.5, "reference": "inv-123"}""", _adminKey);
            statuses.Add(response.StatusCode);
            var reply = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(10.5m, reply.GetProperty("balance").GetDecimal());
            Assert.Equal(i > 0, reply.GetProperty("duplicate").GetBoolean());
            Assert.Equal("inv-123", reply.GetProperty("entry").GetProperty("reference").GetString());
            Assert.Equal(10.5m, reply.GetProperty("entry").GetProperty("amount").GetDecimal());
        }

        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.OK, HttpStatusCode.OK], statuses);

        // The same reference sent by several operators at once still counts once.
        var racing = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            using var response = await TopUpAsync(pipeline, "u-top", """{"amount": "2", "reference": "inv-race"}""", _adminKey);
            return response.StatusCode;
        }));
        Assert.Equal(1, racing.Count(s => s == HttpStatusCode.Created));
        Assert.Equal(5, racing.Count(s => s == HttpStatusCode.OK));

        Assert.Equal(HttpStatusCode.Conflict, (await TopUpAsync(pipeline, "u-top", """{"amount": 11, "reference": "inv-123"}""", _adminKey)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await TopUpAsync(pipeline, "someone-else", """{"amount": 10.5, "reference": "inv-123"}""", _adminKey)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TopUpAsync(pipeline, "u-top", """{"amount": 1, "reference": "inv-x"}""", "not-the-admin-key-0123456789")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TopUpAsync(pipeline, "u-top", """{"amount": 1, "reference": "inv-x"}""", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await TopUpAsync(pipeline, "u-top", """{"amount": 0, "reference": "inv-x"}""", _adminKey)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await TopUpAsync(pipeline, "u-top", """{"amount": -5, "reference": "inv-x"}""", _adminKey)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await TopUpAsync(pipeline, "u-top", """{"amount": 5}""", _adminKey)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await TopUpAsync(pipeline, "u-top", "{not json", _adminKey)).StatusCode);

        var account = await credits.GetFromJsonAsync<JsonElement>("api/accounts/u-top");
        Assert.Equal(12.5m, account.GetProperty("balance").GetDecimal());
        Assert.Equal(2, account.GetProperty("entryCount").GetInt64());
        Assert.Equal(2, await pipeline.CountAsync("""SELECT count(*) FROM credits_ledger WHERE "Kind" = 'top-up'"""));
        Assert.Equal(0, await pipeline.CountAsync("""SELECT count(*) FROM credits_accounts WHERE "UserId" = 'someone-else'"""));
        Assert.Equal(HttpStatusCode.NotFound, (await credits.GetAsync("api/accounts/someone-else")).StatusCode);

        // A later usage is deducted from the topped-up balance.
        var usage = NewApiEvents.Consume("req-after-top-up", "u-top", 1_250_000);
        Assert.Equal(HttpStatusCode.OK, (await pipeline.IngressHttp.SendAsync(NewApiEvents.SignedRequest(usage, _secret, "api/webhooks/events"))).StatusCode);
        await Eventually.WaitAsync(async () => (await credits.GetFromJsonAsync<JsonElement>("api/accounts/u-top")).GetProperty("balance").GetDecimal(),
            b => b == 10m, Deadline, "the usage deducted after the top-up", pipeline.Diagnostics);
    }

    [Fact]
    public async Task Crossing_the_low_mark_and_zero_publishes_one_alert_each_through_the_credits_outbox()
    {
        // Published rows kept (marked sent), so that the outbox itself shows what was published.
        await using var pipeline = await StartAsync(keepSent: true);
        var credits = pipeline.ConsumerHttp[ConsumerService.Credits];
        await using var broker = await BrokerAsync(pipeline);
        var lowQueue = await BindQueueAsync(broker.Channel, LowExchange);
        var exhaustedQueue = await BindQueueAsync(broker.Channel, ExhaustedExchange);

        // c-1 goes 2 → 1.5 → … → -0.2 in five calls (whatever their order, it crosses 1.0 once and 0 once);
        // c-2 goes 3 → -1 in one call that crosses both marks at once.
        Assert.Equal(HttpStatusCode.Created, (await TopUpAsync(pipeline, "c-1", """{"amount": 2, "reference": "seed-c-1"}""", _adminKey)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await TopUpAsync(pipeline, "c-2", """{"amount": 3, "reference": "seed-c-2"}""", _adminKey)).StatusCode);
        var usages = new[] { ("c-1", 250_000L), ("c-1", 300_000L), ("c-1", 250_000L), ("c-1", 250_000L), ("c-1", 50_000L), ("c-2", 2_000_000L) };
        await Task.WhenAll(usages.Select(async (u, i) =>
        {
            using var response = await pipeline.IngressHttp.SendAsync(NewApiEvents.SignedRequest(NewApiEvents.Consume($"req-alert-{i}", u.Item1, u.Item2), _secret));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }));

        await Eventually.WaitAsync(() => pipeline.CountAsync("""SELECT count(*) FROM credits_ledger WHERE "Kind" = 'deduction'"""),
            n => n == usages.Length, Deadline, "all deductions", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.CountAsync("""SELECT count(*) FROM credits_outbox WHERE "SentAt" IS NULL"""),
            n => n == 0, Deadline, "the credits outbox to be published", pipeline.Diagnostics);
        var lows = await DrainAsync(broker.Channel, lowQueue, 2);
        var exhausted = await DrainAsync(broker.Channel, exhaustedQueue, 2);

        // Two alerts per account, plus the two top-ups' own announcements (credits.topped_up for outbound webhooks).
        Assert.Equal(4, await pipeline.CountAsync("""SELECT count(*) FROM credits_outbox WHERE "SentAt" IS NOT NULL AND "MessageType" <> 'Pipeline.Messages.Credits.CreditsToppedUpV1'"""));
        Assert.Equal(2, await pipeline.CountAsync("""SELECT count(*) FROM credits_outbox WHERE "SentAt" IS NOT NULL AND "MessageType" = 'Pipeline.Messages.Credits.CreditsToppedUpV1'"""));
        Assert.Equal(["c-1", "c-2"], lows.Select(m => m.GetProperty("userId").GetString()).Order());
        Assert.Equal(["c-1", "c-2"], exhausted.Select(m => m.GetProperty("userId").GetString()).Order());
        Assert.All(lows, m => Assert.True(Decimal(m, "balance") <= 1.0m && Decimal(m, "threshold") == 1.0m));
        Assert.All(exhausted, m => Assert.True(Decimal(m, "balance") <= 0m));
        Assert.Equal(-1m, Decimal(exhausted.Single(m => m.GetProperty("userId").GetString() == "c-2"), "balance"));

        var c1 = await credits.GetFromJsonAsync<JsonElement>("api/accounts/c-1");
        Assert.Equal(-0.2m, c1.GetProperty("balance").GetDecimal());
        Assert.True(c1.GetProperty("isLow").GetBoolean());
        Assert.True(c1.GetProperty("isExhausted").GetBoolean());

        // Nothing more arrives once the outbox is empty: exactly one alert of each kind per account.
        Assert.Null(await broker.Channel.BasicGetAsync(lowQueue, autoAck: true));
        Assert.Null(await broker.Channel.BasicGetAsync(exhaustedQueue, autoAck: true));
    }

    [Fact]
    public async Task The_same_usage_delivered_many_times_and_under_new_message_ids_is_deducted_once()
    {
        await using var pipeline = await StartAsync();
        var credits = pipeline.ConsumerHttp[ConsumerService.Credits];
        await using var broker = await BrokerAsync(pipeline);
        await WaitForBindingAsync(pipeline, UsageExchange);

        // Published straight to the broker, around Ingress's dedup: one message id four times, and three more ids
        // for the same request id, all at once. Only the inbox and the ledger's unique index stand in the way.
        var repeatedId = Guid.NewGuid();
        var messageIds = Enumerable.Repeat(repeatedId, 4).Concat(Enumerable.Range(0, 3).Select(_ => Guid.NewGuid())).ToList();
        await Task.WhenAll(messageIds.Select(id => PublishUsageAsync(broker.Channel, id, "req-direct-1", "d-1", 750_000)));

        await Eventually.WaitAsync(() => pipeline.CountAsync("SELECT count(*) FROM credits_webhook_logs"), n => n == 4, Deadline,
            "a log row for each of the four message ids", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.QueueDepthAsync("credits-usage"), d => d == (0, 0), Deadline, "credits-usage to be empty", pipeline.Diagnostics);

        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM credits_ledger"));
        Assert.Equal(4, await pipeline.CountAsync("SELECT count(*) FROM credits_inbox"));
        Assert.Equal(1, await pipeline.CountAsync("""SELECT count(*) FROM credits_webhook_logs WHERE "Status" = 'processed'"""));
        Assert.Equal(3, await pipeline.CountAsync("""SELECT count(*) FROM credits_webhook_logs WHERE "Status" = 'duplicate'"""));
        var account = await credits.GetFromJsonAsync<JsonElement>("api/accounts/d-1");
        Assert.Equal(-1.5m, account.GetProperty("balance").GetDecimal());

        var duplicates = await credits.GetFromJsonAsync<JsonElement>("api/webhook-logs?status=duplicate");
        Assert.Equal(3, duplicates.GetArrayLength());
        Assert.All(duplicates.EnumerateArray(), d => Assert.Equal("req-direct-1", d.GetProperty("eventId").GetString()));
        var summary = await credits.GetFromJsonAsync<JsonElement>("api/webhook-logs/summary");
        Assert.Equal(["duplicate:3", "processed:1"],
            summary.EnumerateArray().Select(s => $"{s.GetProperty("status").GetString()}:{s.GetProperty("count").GetInt32()}"));

        // An upstream notification goes through Ingress and is routed (the Credits service consumes it), so the
        // Ingress outbox drains; an unsigned one is refused.
        var notification = NewApiEvents.Notification("quota_exceed", "Quota reminder", "Your quota is below $1.00");
        Assert.Equal(HttpStatusCode.OK, (await pipeline.IngressHttp.SendAsync(NewApiEvents.SignedRequest(notification, _secret))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized,
            (await pipeline.IngressHttp.PostAsync("webhooks/new-api", new StringContent(notification, Encoding.UTF8, "application/json"))).StatusCode);
        await Eventually.WaitAsync(() => pipeline.CountAsync("""SELECT count(*) FROM ingress_outbox WHERE "SentAt" IS NULL"""), n => n == 0,
            Deadline, "the notification to be published", pipeline.Diagnostics);
        Assert.Equal(1, await pipeline.CountAsync("""SELECT count(*) FROM ingress_receipts WHERE "DedupKey" LIKE 'sha256:%'"""));
    }

    // MassTransit writes decimals as JSON strings, to keep every digit.
    private static decimal Decimal(JsonElement message, string property)
    {
        var value = message.GetProperty(property);
        return value.ValueKind == JsonValueKind.String ? decimal.Parse(value.GetString()!, CultureInfo.InvariantCulture) : value.GetDecimal();
    }

    /// <summary>Sends exactly <paramref name="key"/> (none when null), not the read key the topology's clients send.</summary>
    private static async Task<HttpResponseMessage> TopUpAsync(PipelineTopology pipeline, string userId, string json, string? key)
    {
        using var credits = new HttpClient { BaseAddress = pipeline.Consumers[ConsumerService.Credits].BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/accounts/{userId}/top-ups")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        var response = await credits.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static async Task<double> ScrapeAsync(HttpClient http, string metric)
    {
        var text = await http.GetStringAsync("metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(metric + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(metric.Length + 1)..], CultureInfo.InvariantCulture);
    }

    private async Task<Broker> BrokerAsync(PipelineTopology pipeline)
    {
        var factory = new ConnectionFactory
        {
            Uri = new UriBuilder(services.RabbitMq) { Path = "/" + Uri.EscapeDataString(pipeline.Name) }.Uri,
        };
        var connection = await factory.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync();
        return new Broker(connection, channel);
    }

    private async Task WaitForBindingAsync(PipelineTopology pipeline, string exchange)
    {
        using var management = services.ManagementClient();
        await Eventually.WaitAsync(async () =>
        {
            using var response = await management.GetAsync(
                $"api/exchanges/{Uri.EscapeDataString(pipeline.Name)}/{Uri.EscapeDataString(exchange)}/bindings/source");
            return response.IsSuccessStatusCode && (await response.Content.ReadFromJsonAsync<JsonElement>()).GetArrayLength() > 0;
        }, Deadline, $"{exchange} to be bound", pipeline.Diagnostics);
    }

    // The exchange is declared as MassTransit declares a message type's exchange (fanout, durable), so either may come first.
    private static async Task<string> BindQueueAsync(IChannel channel, string exchange)
    {
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
        var queue = (await channel.QueueDeclareAsync("test-" + Guid.NewGuid().ToString("N")[..8], durable: false, exclusive: true, autoDelete: true)).QueueName;
        await channel.QueueBindAsync(queue, exchange, routingKey: "");
        return queue;
    }

    /// <returns>The message objects of the MassTransit envelopes taken from the queue.</returns>
    private static async Task<List<JsonElement>> DrainAsync(IChannel channel, string queue, int expected)
    {
        var messages = new List<JsonElement>();
        await Eventually.WaitAsync(async () =>
        {
            while (await channel.BasicGetAsync(queue, autoAck: true) is { } delivery)
            {
                messages.Add(JsonDocument.Parse(delivery.Body).RootElement.GetProperty("message").Clone());
            }

            return messages.Count;
        }, n => n >= expected, Deadline, $"{expected} messages in {queue}");
        return messages;
    }

    private static async Task PublishUsageAsync(IChannel channel, Guid messageId, string requestId, string userId, long quota)
    {
        var envelope = new
        {
            messageId,
            conversationId = Guid.NewGuid(),
            sourceAddress = "rabbitmq://127.0.0.1/integration-test",
            destinationAddress = "rabbitmq://127.0.0.1/" + UsageExchange,
            messageType = new[] { "urn:message:" + UsageExchange },
            message = new
            {
                requestId,
                userId,
                quota,
                modelName = "gpt-4o-mini",
                occurredAt = DateTimeOffset.UtcNow,
                receiptId = Guid.NewGuid(),
            },
            sentTime = DateTime.UtcNow,
            headers = new Dictionary<string, object>(),
        };
        var properties = new BasicProperties
        {
            ContentType = "application/vnd.masstransit+json",
            MessageId = messageId.ToString(),
            Persistent = true,
        };
        await channel.BasicPublishAsync(UsageExchange, routingKey: "", mandatory: true, properties,
            JsonSerializer.SerializeToUtf8Bytes(envelope, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
    }

    private sealed record Broker(IConnection Connection, IChannel Channel) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Channel.CloseAsync();
            await Connection.CloseAsync();
            Connection.Dispose();
        }
    }
}
