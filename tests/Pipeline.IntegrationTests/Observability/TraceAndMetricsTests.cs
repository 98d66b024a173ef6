using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Pipeline.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Observability;

/// <summary>
/// What an operator sees of one webhook: one trace id from Ingress's accept line, through the outbox and the broker,
/// to the consumer's applied line; the spans exported over OTLP; MassTransit's and the services' own series at
/// /metrics; the dead-letter gauge fed from the management API.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed partial class TraceAndMetricsTests(TestServices services, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private const string ProbeQueue = "observe-probe_error";

    [Fact]
    public async Task One_trace_id_runs_from_the_webhook_through_the_outbox_to_the_consumer_and_metrics_show_the_flow()
    {
        await using var collector = new FakeOtlpCollector();
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            IngressEnvironment =
            {
                ["Telemetry__OtlpEndpoint"] = collector.Endpoint.ToString(),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
                ["Telemetry__GaugeRefreshInterval"] = "00:00:01",
                // Published outbox rows are kept (marked sent): the test reads the trace stored with one.
                ["Outbox__RetainSent"] = "01:00:00",
            },
            ConsumerEnvironment = { ["Telemetry__GaugeRefreshInterval"] = "00:00:01" },
        });
        await AddDeadLettersAsync(services, pipeline.Name, ProbeQueue, 2);

        // (a) A sender without trace context: Ingress starts the trace, the outbox row carries it to the consumer.
        Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-trace-1", DateTime.UtcNow))).StatusCode);
        var accepted = await Eventually.WaitAsync(() => Task.FromResult(Line(pipeline.Ingress, "Accepted e2b create for sandbox sbx-trace-1 ")),
            l => l is not null, Deadline, "Ingress's accept line", pipeline.Diagnostics);
        var traceId = TraceIdOf(accepted!);
        Assert.Matches("^[0-9a-f]{32}$", traceId);
        Assert.Contains("as receipt ", accepted);
        var applied = await Eventually.WaitAsync(() => Task.FromResult(Line(pipeline.Sandboxes, "Sandbox sbx-trace-1: create applied")),
            l => l is not null, Deadline, "the Sandboxes service's applied line", pipeline.Diagnostics);
        output.WriteLine(accepted);
        output.WriteLine(applied);
        Assert.Equal(traceId, TraceIdOf(applied!));
        Assert.Contains("\"MessageId\":\"", applied);
        Assert.Contains("\"ReceiptId\":\"", applied);
        var stored = await pipeline.ScalarAsync<string>("""SELECT "TraceParent" FROM ingress_outbox LIMIT 1""");
        Assert.StartsWith($"00-{traceId}-", stored);

        // A sender that passes a W3C traceparent: its trace id is kept end to end.
        var senderTrace = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var request = E2bEvents.SignedRequest(E2bEvents.V2("create", "sbx-trace-2", DateTime.UtcNow), pipeline.Secret, "webhooks/e2b");
        request.Headers.Add("traceparent", $"00-{senderTrace}-{Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8))}-01");
        Assert.Equal(HttpStatusCode.OK, (await pipeline.IngressHttp.SendAsync(request)).StatusCode);
        var applied2 = await Eventually.WaitAsync(() => Task.FromResult(Line(pipeline.Sandboxes, "Sandbox sbx-trace-2: create applied")),
            l => l is not null, Deadline, "the second applied line", pipeline.Diagnostics);
        Assert.Equal(senderTrace, TraceIdOf(applied2!));
        Assert.Equal(senderTrace, TraceIdOf(Line(pipeline.Ingress, "Accepted e2b create for sandbox sbx-trace-2 ")!));

        // Ingress exported its spans of that trace (the service name and the raw trace id are in the protobuf).
        await Eventually.WaitAsync(() => Task.FromResult(collector.Received("/v1/traces",
                "Pipeline.Ingress"u8.ToArray(), "webhook accept"u8.ToArray(), "outbox publish"u8.ToArray(), Convert.FromHexString(traceId))),
            Deadline, "Ingress's spans at the OTLP collector", collector.Describe);

        // (b) The consumer's /metrics: MassTransit's Meter, the effect outcomes and the active sandboxes gauge.
        var consumerMetrics = await Eventually.WaitAsync(() => pipeline.SandboxesManagement.GetStringAsync("metrics"),
            m => m.Contains("pipeline_sandboxes_active{state=\"running\"} 2"), Deadline, "pipeline_sandboxes_active at 2", pipeline.Diagnostics);
        output.WriteLine(string.Join(Environment.NewLine, consumerMetrics.Split('\n').Where(l => l.StartsWith("masstransit_", StringComparison.Ordinal))));
        Assert.Matches(MassTransitConsumeSeries(), consumerMetrics);
        Assert.Contains("pipeline_consumer_messages_total{consumer=\"sandboxes.lifecycle\",outcome=\"applied\"} 2", consumerMetrics);
        // Both applied messages carry their outbox row's time in their id: written → applied is measured for each.
        Assert.Contains("pipeline_consumer_lag_seconds_count{consumer=\"sandboxes.lifecycle\"} 2", consumerMetrics);
        Assert.Contains("pipeline_sandboxes_active{state=\"paused\"} 0", consumerMetrics);
        Assert.DoesNotMatch("(?m)^pipeline_rooms_active ", consumerMetrics); // only the Rooms service reports rooms
        Assert.Contains("le=\"60000\"", consumerMetrics); // MassTransit's millisecond histograms get millisecond buckets
        // Npgsql's command durations are exported, its per-buffer byte counts are not.
        output.WriteLine(string.Join(Environment.NewLine, consumerMetrics.Split('\n').Where(l => l.StartsWith("npgsql_", StringComparison.Ordinal))));
        Assert.Contains("npgsql_db_client_operation_duration", consumerMetrics);
        Assert.DoesNotContain("bytes_read", consumerMetrics);
        Assert.DoesNotContain("bytes_written", consumerMetrics);

        // (c) Ingress's /metrics: dead letters per _error queue, read from the management API.
        var ingressMetrics = await Eventually.WaitAsync(() => pipeline.IngressManagement.GetStringAsync("metrics"),
            m => m.Contains($"pipeline_dead_letters{{queue=\"{ProbeQueue}\"}} 2"), Deadline, "the probe queue's dead letters", pipeline.Diagnostics);
        Assert.Contains("pipeline_webhooks_accepted_total{provider=\"e2b\",outcome=\"new\"} 2", ingressMetrics);
        Assert.Contains("pipeline_outbox_publish_seconds_count{context=\"IngressDbContext\"} 2", ingressMetrics);

        // Requests are counted once, by prometheus-net; ASP.NET Core's own request and memory-pool meters are not exported.
        Assert.Contains("http_request_duration_seconds_count{", ingressMetrics);
        Assert.DoesNotContain("http_server_request_duration", ingressMetrics);
        Assert.DoesNotContain("memory_pool", ingressMetrics);
    }

    /// <summary>A dead-letter queue with messages in it, made through the management API as MassTransit would leave one.</summary>
    private static async Task AddDeadLettersAsync(TestServices services, string vhostName, string queue, int count)
    {
        using var management = services.ManagementClient();
        var vhost = Uri.EscapeDataString(vhostName);
        (await management.PutAsJsonAsync($"api/queues/{vhost}/{queue}", new { durable = true })).EnsureSuccessStatusCode();
        for (var i = 0; i < count; i++)
        {
            var published = await management.PostAsJsonAsync($"api/exchanges/{vhost}/amq.default/publish", new
            {
                properties = new { delivery_mode = 2 },
                routing_key = queue,
                payload = $"probe {i}",
                payload_encoding = "string",
            });
            published.EnsureSuccessStatusCode();
            Assert.Contains("\"routed\":true", await published.Content.ReadAsStringAsync());
        }
    }

    private static string? Line(HostProcess host, string containing) =>
        host.FullOutput().Split('\n').FirstOrDefault(l => l.Contains(containing, StringComparison.Ordinal));

    private static string TraceIdOf(string line) =>
        TraceIdProperty().Match(line) is { Success: true } m ? m.Groups[1].Value : throw new Xunit.Sdk.XunitException($"No TraceId on: {line}");

    [GeneratedRegex("\"TraceId\": ?\"([0-9a-f]{32})\"")]
    private static partial Regex TraceIdProperty();

    [GeneratedRegex("(?m)^masstransit_messaging_masstransit_consume\\{[^}]*consumer_type=\"SandboxLifecycleConsumer\"[^}]*\\} 2$")]
    private static partial Regex MassTransitConsumeSeries();
}
