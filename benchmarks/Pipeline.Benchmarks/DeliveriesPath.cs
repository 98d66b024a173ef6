using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Consumers.Deliveries;
using Pipeline.Hosting;
using Pipeline.Hosting.Bus;
using Pipeline.Messages.Sandboxes;
using Pipeline.Persistence;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Benchmarks;

/// <summary>
/// Outbound webhooks on loopback: events published to the Deliveries service (in-memory bus), fanned out to
/// <c>endpoints</c> endpoints and sent, signed, to a local receiver, against a floor measured in the same run: a bare
/// HttpClient loop posting the same number of signed requests of the same size, as many at once as the service may
/// (endpoints x Deliveries:MaxInFlightPerEndpoint). The ratio is what fan-out, claims and records cost on top of HTTP.
/// </summary>
internal sealed class DeliveriesBench(WebApplication deliveries, Receiver receiver, HttpClient client, int events, int endpoints, int concurrency)
{
    private const string AdminKey = "benchmark-admin-key-0123456789";
    private const int MaxInFlightPerEndpoint = 8;

    public static async Task RunAsync(BenchDatabase database, int events, int endpoints, int rounds, CancellationToken ct)
    {
        await using var receiver = await Receiver.StartAsync(endpoints, ct);
        var connection = database.Provider == DatabaseProvider.Sqlite
            ? $"Data Source={Path.Combine(Path.GetTempPath(), $"bench-deliveries-{Guid.NewGuid():N}.db")}"
            : database.ConnectionString;
        await using var deliveries = await StartDeliveriesAsync(database.Provider, connection, ct);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = MaxInFlightPerEndpoint });
        var bench = new DeliveriesBench(deliveries, receiver, client, events, endpoints, endpoints * MaxInFlightPerEndpoint);
        await bench.RegisterAsync(ct);

        Console.WriteLine($"Outbound webhooks on loopback, Deliveries on {database.Description} with an in-memory bus: {events} events per run fanned out " +
                          $"to {endpoints} endpoints ({events * endpoints} deliveries), {MaxInFlightPerEndpoint} in flight per endpoint; " +
                          $"median of {rounds} runs; {Environment.ProcessorCount} cores, everything in one process");
        await bench.RunFloorAsync(ct); // warm-up: JIT, connections, pools, query plans
        await bench.RunDeliveriesAsync(ct);
        await Compare.PrintAsync("signed deliveries", rounds,
            ("floor (HttpClient loop, same requests)", () => bench.RunFloorAsync(ct)),
            ("Deliveries (fan-out, claim, send, record)", () => bench.RunDeliveriesAsync(ct)),
            unit: "delivery", units: "deliveries");
        var measured = bench.FanOutTimes.Skip(1).Order().ToList(); // the first was the warm-up
        Console.WriteLine($"  the fan-out had written every delivery row after {measured[measured.Count / 2]:P0} of a Deliveries run (median)");
        await deliveries.StopAsync(ct);

        if (database.Provider == DatabaseProvider.Sqlite)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }
    }

    private async Task<RunResult> RunFloorAsync(CancellationToken ct)
    {
        var body = Encoding.UTF8.GetBytes(SampleEnvelope());
        var total = events * endpoints;
        receiver.Reset(total);
        var latencies = new TimeSpan[total];
        var secret = "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var key = Convert.FromBase64String(secret[6..]);
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, total), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct },
            async (i, token) =>
            {
                var started = Stopwatch.GetTimestamp();
                var id = $"evt_{i}";
                var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString();
                using var request = new HttpRequestMessage(HttpMethod.Post, receiver.Url(i % endpoints)) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new("application/json");
                request.Headers.Add("webhook-id", id);
                request.Headers.Add("webhook-timestamp", timestamp);
                byte[] signed = [.. Encoding.UTF8.GetBytes($"{id}.{timestamp}."), .. body];
                request.Headers.Add("webhook-signature", "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed)));
                using var response = await client.SendAsync(request, token);
                response.EnsureSuccessStatusCode();
                latencies[i] = Stopwatch.GetElapsedTime(started);
            });
        return Compare.Result(clock.Elapsed, latencies, GC.GetTotalAllocatedBytes(precise: true) - allocated);
    }

    /// <summary>From the first publish until the receiver has every delivery; each delivery's latency from its event's publish.</summary>
    private async Task<RunResult> RunDeliveriesAsync(CancellationToken ct)
    {
        await ClearAsync(ct);
        var total = events * endpoints;
        receiver.Reset(total);
        var bus = deliveries.Services.GetRequiredService<IBus>();
        var published = new ConcurrentDictionary<string, long>();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, events), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (i, token) =>
        {
            var messageId = Guid.NewGuid();
            published["evt_" + messageId.ToString("N")] = Stopwatch.GetTimestamp();
            await bus.Publish(new SandboxLifecycleEventV1
            {
                EventId = Guid.NewGuid().ToString(),
                SandboxId = $"sbx-bench-{i}",
                Label = SandboxLabels.Create,
                EventType = "sandbox.lifecycle.created",
                OccurredAt = DateTimeOffset.UtcNow,
                TeamId = "team-bench",
                TemplateId = "base",
                ReceiptId = Guid.NewGuid(),
                SourceFormat = "v2",
            }, context => context.MessageId = messageId, token);
        });
        var fannedOut = WhenFannedOutAsync(total, clock, ct);
        await receiver.AllArrived.WaitAsync(TimeSpan.FromMinutes(10), ct);
        var elapsed = clock.Elapsed;
        FanOutTimes.Add((await fannedOut).TotalSeconds / elapsed.TotalSeconds);
        var latencies = receiver.Arrivals.Select(a => Stopwatch.GetElapsedTime(published[a.WebhookId], a.At)).ToArray();
        return Compare.Result(elapsed, latencies, GC.GetTotalAllocatedBytes(precise: true) - allocated);
    }

    /// <summary>Per Deliveries run: when the last delivery row was written, as a share of the run (the rest is sending).</summary>
    public List<double> FanOutTimes { get; } = [];

    private async Task<TimeSpan> WhenFannedOutAsync(int total, Stopwatch clock, CancellationToken ct)
    {
        await using var scope = deliveries.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DeliveriesDbContext>();
        while (await db.Deliveries.CountAsync(ct) < total)
        {
            await Task.Delay(50, ct);
        }

        return clock.Elapsed;
    }

    private async Task RegisterAsync(CancellationToken ct)
    {
        using var api = new HttpClient { BaseAddress = new Uri(deliveries.Urls.First()) };
        api.DefaultRequestHeaders.Authorization = new("Bearer", AdminKey);
        for (var i = 0; i < endpoints; i++)
        {
            var response = await api.PostAsJsonAsync("api/endpoints", new { url = receiver.Url(i), eventTypes = new[] { "sandbox.*" } }, ct);
            response.EnsureSuccessStatusCode();
        }
    }

    private async Task ClearAsync(CancellationToken ct)
    {
        await using var scope = deliveries.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DeliveriesDbContext>();

        // The last run's attempts are recorded a little after they arrived: let that finish first.
        while (await db.Deliveries.AnyAsync(d => d.Status != DeliveryStatuses.Delivered, ct))
        {
            await Task.Delay(50, ct);
        }

        await db.Attempts.ExecuteDeleteAsync(ct);
        await db.Deliveries.ExecuteDeleteAsync(ct);
        await db.Events.ExecuteDeleteAsync(ct);
        await db.Inbox.ExecuteDeleteAsync(ct);
    }

    /// <summary>An envelope of the size the service sends for the events published here.</summary>
    private static string SampleEnvelope() => JsonSerializer.Serialize(new
    {
        id = "evt_" + Guid.NewGuid().ToString("N"),
        event_type = "sandbox.created",
        data = new
        {
            sandbox_id = "sbx-bench-1",
            team_id = "team-bench",
            template_id = "base",
            occurred_at = "2026-12-01T09:30:00.125Z",
            e2b_event_id = Guid.NewGuid().ToString(),
            e2b_event_type = "sandbox.lifecycle.created",
        },
        timestamp = 1796117400.125m,
        source = "e2b",
        version = "1.0",
    });

    private static async Task<WebApplication> StartDeliveriesAsync(DatabaseProvider provider, string connection, CancellationToken ct)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Urls"] = $"http://127.0.0.1:{Receiver.FreePort()}",
            ["Database:Provider"] = provider.ToString(),
            ["ConnectionStrings:Deliveries"] = connection,
            ["Bus:Transport"] = nameof(BusTransport.InMemory),
            ["Deliveries:AllowPrivateNetworks"] = "true",
            ["Deliveries:AllowHttp"] = "true",
            ["Deliveries:MaxInFlightPerEndpoint"] = MaxInFlightPerEndpoint.ToString(),
            ["ADMIN_API_KEY"] = AdminKey,
            ["Serilog:MinimumLevel:Default"] = "Warning",
        });
        builder.AddServiceDefaults();
        builder.AddDeliveries();
        builder.AddPipelineBus(bus => bus.AddDeliveryConsumers());
        var app = builder.Build();
        app.MapDefaultEndpoints();
        app.MapDeliveries();
        await app.PrepareDeliveriesAsync();
        await app.StartAsync(ct);
        return app;
    }
}

/// <summary>The receivers: one port per endpoint, each answering 200 at once and noting when each webhook-id arrived.</summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly int[] _ports;
    private ConcurrentDictionary<string, long> _arrived = new();
    private int _expected;
    private TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private Receiver(WebApplication app, int[] ports)
    {
        _app = app;
        _ports = ports;
    }

    public Task AllArrived => _all.Task;

    public IEnumerable<(string WebhookId, long At)> Arrivals => _arrived.Select(a => (a.Key[..a.Key.IndexOf('|')], a.Value));

    public string Url(int endpoint) => $"http://127.0.0.1:{_ports[endpoint]}/hooks";

    public void Reset(int expected)
    {
        _arrived = new ConcurrentDictionary<string, long>();
        _expected = expected;
        _all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public static async Task<Receiver> StartAsync(int endpoints, CancellationToken ct)
    {
        var ports = Enumerable.Range(0, endpoints).Select(_ => FreePort()).ToArray();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls([.. ports.Select(p => $"http://127.0.0.1:{p}")]);
        var app = builder.Build();
        Receiver? receiver = null;
        app.MapPost("/hooks", async (HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            receiver!.Arrived($"{request.Headers["webhook-id"]}|{request.HttpContext.Connection.LocalPort}");
            return Results.Ok();
        });
        await app.StartAsync(ct);
        receiver = new Receiver(app, ports);
        return receiver;
    }

    // A retry of a delivery counts once: the key is the webhook-id at this endpoint's port.
    private void Arrived(string key)
    {
        if (_arrived.TryAdd(key, Stopwatch.GetTimestamp()) && _arrived.Count >= _expected)
        {
            _all.TrySetResult();
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
