using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.Management;
using Pipeline.Ingress;

namespace Pipeline.Benchmarks;

/// <summary>
/// Signed E2B webhooks over HTTP on loopback: Ingress as it runs (verify, normalize, receipt and outbox row in one
/// commit, dispatcher publishing to an in-memory bus) against a floor measured in the same run, a bare endpoint
/// that only reads the body, checks the same signature and answers. The ratio is what recording costs on top of HTTP.
/// </summary>
internal sealed class HttpBench(HttpClient client, Uri ingress, Uri floor, string secret, int count, int concurrency)
{
    public static async Task RunAsync(BenchDatabase database, int count, int concurrency, int rounds, CancellationToken ct)
    {
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var ingress = await StartIngressAsync(database, secret, ct);
        await using var floor = await StartFloorAsync(secret, ct);
        using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency });
        var ingressUrl = ingress.Services.GetRequiredService<ListenerAddresses>().PublicUrls[0];
        var bench = new HttpBench(client, new Uri(ingressUrl), new Uri(floor.Urls.First()), secret, count, concurrency);

        Console.WriteLine($"HTTP on loopback, Ingress on {database.Description} with an in-memory bus: {count} signed E2B webhooks per run, " +
                          $"{concurrency} in flight, median of {rounds} runs; {Environment.ProcessorCount} cores, client and servers in one process");
        await bench.RunAsync(bench._floor, ct); // warm-up: JIT, connections, pools
        await bench.RunAsync(bench._ingress, ct);
        await Compare.PrintAsync("signed E2B webhooks", rounds,
            ("floor (read, verify, answer)", () => bench.RunAsync(bench._floor, ct)),
            ("Ingress (verify, record, outbox)", () => bench.RunAsync(bench._ingress, ct)));
    }

    private readonly Uri _ingress = new(ingress, "webhooks/e2b");
    private readonly Uri _floor = new(floor, "webhooks/e2b");

    private async Task<RunResult> RunAsync(Uri target, CancellationToken ct)
    {
        var bodies = Enumerable.Range(0, count).Select(_ => Body()).ToArray();
        var latencies = new TimeSpan[count];
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = ct },
            async (i, token) =>
            {
                var started = Stopwatch.GetTimestamp();
                using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(bodies[i]) };
                request.Content.Headers.ContentType = new("application/json");
                request.Headers.Add("e2b-signature", Sign(secret, bodies[i]));
                request.Headers.Add("e2b-signature-version", "v1");
                using var response = await client.SendAsync(request, token);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"{target} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(token)}");
                }

                latencies[i] = Stopwatch.GetElapsedTime(started);
            });
        var elapsed = clock.Elapsed;
        return Compare.Result(elapsed, latencies, GC.GetTotalAllocatedBytes(precise: true) - allocated);
    }

    private static byte[] Body() => JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
    {
        ["id"] = Guid.NewGuid().ToString(),
        ["version"] = "v2",
        ["type"] = "sandbox.lifecycle.created",
        ["timestamp"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
        ["event_category"] = "lifecycle",
        ["event_label"] = "create",
        ["sandbox_id"] = "sbx-bench-" + Random.Shared.Next(100_000),
        ["sandbox_team_id"] = "team-bench",
        ["sandbox_template_id"] = "base",
    });

    /// <summary>E2B's current scheme: Base64(SHA-256(secret + body)) without padding.</summary>
    private static string Sign(string secret, byte[] body) =>
        Convert.ToBase64String(SHA256.HashData([.. Encoding.UTF8.GetBytes(secret), .. body])).TrimEnd('=');

    private static async Task<WebApplication> StartIngressAsync(BenchDatabase database, string secret, CancellationToken ct)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Urls"] = $"http://127.0.0.1:{FreePort()}",
            ["Management:Port"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Database:Provider"] = database.Provider.ToString(),
            ["ConnectionStrings:Ingress"] = database.ConnectionString,
            ["Bus:Transport"] = nameof(BusTransport.InMemory),
            ["Providers:E2b:Secrets:0"] = secret,
            ["Ingress:RateLimit:PerSecond"] = "1000000",
            ["Ingress:RateLimit:Burst"] = "1000000",
            ["Serilog:MinimumLevel:Default"] = Environment.GetEnvironmentVariable("BENCH_LOG_LEVEL") ?? "Warning",
        });
        builder.AddIngressService();
        var app = builder.Build();
        await app.MapIngressServiceAsync();
        await app.StartAsync(ct);
        return app;
    }

    private static async Task<WebApplication> StartFloorAsync(string secret, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{FreePort()}");
        var app = builder.Build();
        app.MapPost("/webhooks/e2b", async (HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            var expected = Encoding.ASCII.GetBytes(Sign(secret, buffer.ToArray()));
            var given = Encoding.ASCII.GetBytes(request.Headers["e2b-signature"].ToString());
            return CryptographicOperations.FixedTimeEquals(expected, given)
                ? Results.Ok(new { success = true, receiptId = Guid.NewGuid(), duplicate = false })
                : Results.Unauthorized();
        });
        await app.StartAsync(ct);
        return app;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
