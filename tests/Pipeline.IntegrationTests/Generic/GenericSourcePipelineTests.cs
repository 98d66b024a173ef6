using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using Pipeline.IntegrationTests.Infrastructure;
using RabbitMQ.Client;

namespace Pipeline.IntegrationTests.Generic;

/// <summary>
/// Configured sources end to end: HTTP → Ingress → receipt + outbox → RabbitMQ, read from a queue of the test's own
/// bound to the WebhookReceivedV1 exchange (no consumer service takes that message yet).
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class GenericSourcePipelineTests(TestServices services)
{
    private const string Exchange = "Pipeline.Messages.Webhooks:WebhookReceivedV1";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    [Fact]
    public async Task A_signed_seed_004_delivery_is_recorded_sent_and_arrives_on_RabbitMQ_once()
    {
        var secret = NewSecret();
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [],
            // Published rows kept, marked sent, so that the row can be compared with the message that arrived.
            IngressEnvironment = { ["Sources__agents__Scheme"] = "hmac-sha256", ["Sources__agents__Secrets__0"] = secret, ["Outbox__RetainSent"] = "01:00:00" },
        });
        await using var queue = await WebhookQueue.BindAsync(services, pipeline.Name);

        var eventId = Guid.NewGuid().ToString();
        var body = JsonSerializer.Serialize(new
        {
            id = eventId,
            event_type = "agent.completed",
            data = new { run = "r-1", note = "héllo ✓" },
            timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0,
            source = "agent-platform",
            version = "1.0",
        });
        var response = await PostSeedAsync(pipeline, body, secret);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.False(reply.GetProperty("duplicate").GetBoolean());
        var receiptId = reply.GetProperty("receiptId").GetGuid();

        // The same delivery again (the seed's sender retries): 200, nothing new.
        var again = JsonDocument.Parse(await (await PostSeedAsync(pipeline, body, secret)).Content.ReadAsStringAsync()).RootElement;
        Assert.True(again.GetProperty("duplicate").GetBoolean());

        await Eventually.WaitAsync(async () => await pipeline.CountAsync("""SELECT count(*) FROM ingress_outbox WHERE "SentAt" IS NOT NULL"""),
            n => n == 1, Deadline, "the outbox row to be marked sent", pipeline.Diagnostics);
        var envelope = await queue.NextAsync(Deadline, pipeline.Diagnostics);
        var message = envelope.GetProperty("message");
        Assert.Equal("agents", message.GetProperty("source").GetString());
        Assert.Equal(eventId, message.GetProperty("eventId").GetString());
        Assert.Equal("agent.completed", message.GetProperty("eventType").GetString());
        Assert.Equal(body, message.GetProperty("body").GetString());
        Assert.Equal(receiptId, message.GetProperty("receiptId").GetGuid());
        Assert.Equal("agent.completed", message.GetProperty("headers").GetProperty("x-webhook-event").GetString());
        Assert.False(message.GetProperty("headers").TryGetProperty("x-webhook-signature", out _));
        Assert.Contains("urn:message:Pipeline.Messages.Webhooks:WebhookReceivedV1",
            envelope.GetProperty("messageType").EnumerateArray().Select(t => t.GetString()));

        await using var connection = new NpgsqlConnection(pipeline.DatabaseOf("Ingress"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT r."Provider", r."DedupKey", r."Headers", convert_from(r."Body", 'UTF8'), o."Id", o."MessageType"
            FROM ingress_receipts r JOIN ingress_outbox o ON o."ReceiptId" = r."Id"
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("agents", reader.GetString(0));
        Assert.Equal(eventId, reader.GetString(1));
        Assert.DoesNotContain("signature", reader.GetString(2), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(body, reader.GetString(3));
        Assert.Equal(reader.GetGuid(4), Guid.Parse(envelope.GetProperty("messageId").GetString()!));
        Assert.Equal("Pipeline.Messages.Webhooks.WebhookReceivedV1", reader.GetString(5));
        Assert.False(await reader.ReadAsync());
        Assert.Null(await queue.TryNextAsync());
    }

    [Fact]
    public async Task A_captured_GitHub_delivery_sent_again_under_new_delivery_ids_is_recorded_once()
    {
        var secret = NewSecret();
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [],
            // Published rows kept, so that the outbox shows how many messages the three deliveries wrote.
            IngressEnvironment = { ["Sources__gh__Scheme"] = "github", ["Sources__gh__Secrets__0"] = secret, ["Outbox__RetainSent"] = "01:00:00" },
        });

        // GitHub signs the body alone: X-GitHub-Delivery can be changed at will without breaking the signature.
        var body = JsonSerializer.Serialize(new { action = "opened", issue = new { number = 1347 } });
        var signature = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));
        var deliveries = new[] { Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid() };
        var duplicates = new List<bool>();
        foreach (var delivery in deliveries)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "webhooks/gh") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add("X-Hub-Signature-256", signature);
            request.Headers.Add("X-GitHub-Event", "issues");
            request.Headers.Add("X-GitHub-Delivery", delivery.ToString());
            using var response = await pipeline.IngressHttp.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            duplicates.Add(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("duplicate").GetBoolean());
        }

        Assert.Equal([false, true, true], duplicates);
        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM ingress_outbox"));
        // The first delivery id is kept with the receipt, as metadata.
        Assert.Contains(deliveries[0].ToString(), await pipeline.ScalarAsync<string>("""SELECT "Headers" FROM ingress_receipts"""));
    }

    [Fact]
    public async Task A_delivery_nobody_subscribes_to_yet_is_published_and_does_not_clog_the_outbox()
    {
        var token = NewSecret();
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [],
            IngressEnvironment = { ["Sources__runs__Scheme"] = "token", ["Sources__runs__Secrets__0"] = token },
        });

        // No queue is bound to WebhookReceivedV1: unlike the domain messages, it is not held back as unroutable.
        var body = JsonSerializer.Serialize(new { run_id = Guid.NewGuid().ToString(), status = "success" });
        Assert.Equal(HttpStatusCode.OK, (await pipeline.IngressHttp.PostAsync($"webhooks/runs?token={token}", new StringContent(body))).StatusCode);

        // Deleted once the broker confirmed it (a failed publish would keep it, with its attempts).
        await Eventually.WaitAsync(async () => await pipeline.CountAsync("""SELECT count(*) FROM ingress_outbox"""),
            n => n == 0, Deadline, "the outbox row to be published", pipeline.Diagnostics);
    }

    [Fact]
    public async Task A_LangGraph_style_token_source_accepts_text_plain_and_never_records_the_token()
    {
        var token = NewSecret();
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [],
            IngressEnvironment =
            {
                ["Sources__runs__Scheme"] = "token",
                ["Sources__runs__Secrets__0"] = token,
                ["Sources__dormant__Scheme"] = "github",
            },
        });
        await using var queue = await WebhookQueue.BindAsync(services, pipeline.Name);
        var runId = Guid.NewGuid().ToString();
        var body = JsonSerializer.Serialize(new { run_id = runId, thread_id = "t-1", assistant_id = "a-1", status = "success" });

        // LangGraph sets no Content-Type; its client then sends text/plain.
        var accepted = await pipeline.IngressHttp.PostAsync($"webhooks/runs?token={token}", new StringContent(body, Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);

        await AssertRefusedAsync(await pipeline.IngressHttp.PostAsync($"webhooks/runs?token={NewSecret()}", new StringContent(body)),
            HttpStatusCode.Unauthorized, "token mismatch");
        await AssertRefusedAsync(await pipeline.IngressHttp.PostAsync("webhooks/runs", new StringContent(body)),
            HttpStatusCode.Unauthorized, "missing token");
        await AssertRefusedAsync(await pipeline.IngressHttp.PostAsync($"webhooks/runs?token={token}",
            new ByteArrayContent([0x7B, 0x22, 0xFF, 0x22, 0x7D])), HttpStatusCode.BadRequest, "body is not UTF-8");
        await AssertRefusedAsync(await pipeline.IngressHttp.PostAsync("webhooks/nobody", new StringContent("{}")),
            HttpStatusCode.NotFound, "unknown source");
        await AssertRefusedAsync(await pipeline.IngressHttp.PostAsync("webhooks/dormant", new StringContent("{}")),
            HttpStatusCode.NotFound, "provider not configured");

        var envelope = await queue.NextAsync(Deadline, pipeline.Diagnostics);
        var message = envelope.GetProperty("message");
        Assert.Equal(runId, message.GetProperty("eventId").GetString());
        Assert.Equal("success", message.GetProperty("eventType").GetString());
        Assert.StartsWith("text/plain", message.GetProperty("contentType").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(token, envelope.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        Assert.Equal(0, await pipeline.CountAsync(
            $"SELECT count(*) FROM ingress_receipts WHERE \"Headers\" LIKE '%{token}%' OR position('{token}'::bytea in \"Body\") > 0"));
    }

    [Fact]
    public async Task A_source_under_a_reserved_name_stops_Ingress_at_start_up_naming_the_setting()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions { Consumers = [] });
        var environment = pipeline.Environment(services.RabbitMq.Port, "Ingress", new Dictionary<string, string>
        {
            ["Sources__livekit__Scheme"] = "github",
            ["Sources__livekit__Secrets__0"] = NewSecret(),
            ["Sources__Bad_Name__Scheme"] = "github",
        });

        var (exitCode, output) = await RunIngressUntilExitAsync(environment, Deadline);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("Sources:livekit: 'livekit' is reserved", output, StringComparison.Ordinal);
        Assert.Contains("Sources:Bad_Name: a source name is", output, StringComparison.Ordinal);
    }

    // HostProcess waits for a healthy host; this waits for the process to end, as a failed start-up does.
    private static async Task<(int ExitCode, string Output)> RunIngressUntilExitAsync(Dictionary<string, string> environment, TimeSpan timeout)
    {
        var dll = Path.Combine(RepoPaths.Root, "Ingress", "bin", RepoPaths.Configuration, "net10.0", "Pipeline.Ingress.dll");
        var info = new System.Diagnostics.ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var port = FreePort.Next();
        info.Environment["Urls"] = $"http://127.0.0.1:{port}";
        info.Environment["Management__Port"] = FreePort.Other(port).ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        using var process = System.Diagnostics.Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"Ingress was still running after {timeout.TotalSeconds:0}s: {await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static Task<HttpResponseMessage> PostSeedAsync(PipelineTopology pipeline, string body, string secret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "webhooks/agents") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));
        request.Headers.Add("X-Webhook-Signature", "sha256=" + signature);
        request.Headers.Add("X-Webhook-Event", "agent.completed");
        request.Headers.Add("X-Webhook-Timestamp", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString());
        request.Headers.UserAgent.ParseAdd("LangGraph-Webhook/1.0");
        return pipeline.IngressHttp.SendAsync(request);
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, HttpStatusCode status, string reason)
    {
        Assert.Equal(status, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(reason, error.GetProperty("error").GetString());
    }

    /// <summary>A server-named queue bound to the WebhookReceivedV1 exchange, declared before anything is published.</summary>
    private sealed class WebhookQueue : IAsyncDisposable
    {
        private readonly IConnection _connection;
        private readonly IChannel _channel;
        private readonly string _queue;

        private WebhookQueue(IConnection connection, IChannel channel, string queue)
        {
            _connection = connection;
            _channel = channel;
            _queue = queue;
        }

        public static async Task<WebhookQueue> BindAsync(TestServices services, string vhost)
        {
            var factory = new ConnectionFactory { Uri = services.RabbitMq, VirtualHost = vhost };
            var connection = await factory.CreateConnectionAsync();
            var channel = await connection.CreateChannelAsync();
            // Declared as MassTransit declares its publish exchanges (durable fanout), so its own declaration agrees.
            await channel.ExchangeDeclareAsync(Exchange, ExchangeType.Fanout, durable: true, autoDelete: false);
            var queue = await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true);
            await channel.QueueBindAsync(queue.QueueName, Exchange, "");
            return new WebhookQueue(connection, channel, queue.QueueName);
        }

        public async Task<JsonElement?> TryNextAsync()
        {
            var delivery = await _channel.BasicGetAsync(_queue, autoAck: true);
            return delivery is null ? null : JsonDocument.Parse(delivery.Body).RootElement.Clone();
        }

        public async Task<JsonElement> NextAsync(TimeSpan timeout, Func<string> diagnostics) =>
            (await Eventually.WaitAsync(TryNextAsync, m => m is not null, timeout, "a WebhookReceivedV1 on the test's queue", diagnostics))!.Value;

        public async ValueTask DisposeAsync()
        {
            await _channel.CloseAsync();
            await _connection.CloseAsync();
            _channel.Dispose();
            _connection.Dispose();
        }
    }
}
