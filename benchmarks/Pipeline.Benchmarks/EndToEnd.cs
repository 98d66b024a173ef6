using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Pipeline.Benchmarks;

/// <summary>
/// Helpers of the end-to-end benchmark (benchmarks/e2e/run.sh), which drives the deployed services with wrk: wrk's
/// Lua has no HMAC, so every request is signed here in advance, and the floors it compares against run here too.
/// </summary>
internal static class EndToEnd
{
    /// <summary>
    /// Writes <paramref name="count"/> uniquely signed requests, one a line, for benchmarks/e2e/requests.lua:
    /// path, body, then header name and value pairs, tab-separated (compact JSON holds no tab or newline).
    /// Events are spread over <paramref name="users"/> sandboxes (E2B) or accounts (new-api).
    /// </summary>
    public static async Task WriteBodiesAsync(string provider, int count, int users, string secret, string path, CancellationToken ct)
    {
        var key = Encoding.UTF8.GetBytes(secret);
        var run = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var now = DateTimeOffset.UtcNow;
        await using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 20);
        for (var i = 0; i < count; i++)
        {
            var user = users <= 1 ? 0 : Random.Shared.Next(users);
            string line;
            switch (provider)
            {
                case "e2b":
                {
                    // "update" events: a sandbox keeps a history of state-changing events only, so one hot sandbox
                    // does not grow a history row with every event and the figure stays about the pipeline.
                    var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
                    {
                        ["id"] = $"evt-{run}-{i}",
                        ["version"] = "v2",
                        ["type"] = "sandbox.lifecycle.updated",
                        ["timestamp"] = now.AddTicks(i).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture),
                        ["event_category"] = "lifecycle",
                        ["event_label"] = "update",
                        ["sandbox_id"] = $"sbx-bench-{user}",
                        ["sandbox_team_id"] = $"team-bench-{user % 50}",
                        ["sandbox_template_id"] = "base",
                    });
                    line = $"/webhooks/e2b\t{Encoding.UTF8.GetString(body)}\te2b-signature\t{SignE2b(key, body)}\te2b-signature-version\tv1";
                    break;
                }

                case "new-api":
                {
                    var unix = now.ToUnixTimeSeconds();
                    var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
                    {
                        ["type"] = "consume",
                        ["title"] = "",
                        ["content"] = "",
                        ["timestamp"] = unix,
                        ["data"] = new Dictionary<string, object?>
                        {
                            ["request_id"] = $"req-{run}-{i}",
                            ["user_id"] = 100_000 + user,
                            ["username"] = $"bench-{user}",
                            ["model_name"] = "gpt-4o-mini",
                            ["quota"] = 1000,
                            ["created_at"] = unix,
                        },
                    });
                    line = $"/webhooks/new-api\t{Encoding.UTF8.GetString(body)}\tX-Webhook-Signature\t{Convert.ToHexStringLower(HMACSHA256.HashData(key, body))}";
                    break;
                }

                default:
                    throw new ArgumentException($"unknown provider '{provider}' (e2b or new-api)", nameof(provider));
            }

            await writer.WriteLineAsync(line.AsMemory(), ct);
        }
    }

    /// <summary>E2B's current scheme: Base64(SHA-256(secret + body)) without padding.</summary>
    private static string SignE2b(byte[] key, ReadOnlySpan<byte> body) =>
        Convert.ToBase64String(SHA256.HashData([.. key, .. body])).TrimEnd('=');

    /// <summary>
    /// The floor of the accept figure: a bare Kestrel endpoint that reads the body, checks the same E2B signature
    /// and answers as Ingress does, without logging. Runs until stopped (SIGTERM or Ctrl+C).
    /// </summary>
    public static async Task RunFloorAsync(int port, string secret, CancellationToken ct)
    {
        var key = Encoding.UTF8.GetBytes(secret);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.MapPost("/webhooks/e2b", async (HttpRequest request) =>
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer);
            var expected = Encoding.ASCII.GetBytes(SignE2b(key, buffer.GetBuffer().AsSpan(0, (int)buffer.Length)));
            var given = Encoding.ASCII.GetBytes(request.Headers["e2b-signature"].ToString());
            return CryptographicOperations.FixedTimeEquals(expected, given)
                ? Results.Ok(new { success = true, receiptId = Guid.NewGuid(), duplicate = false })
                : Results.Unauthorized();
        });
        app.MapGet("/health/live", () => Results.Ok());
        await app.StartAsync(ct);
        await app.WaitForShutdownAsync(ct);
    }

    /// <summary>
    /// The floor of the end-to-end figures: MassTransit publishing with confirms to a quorum queue on the same broker
    /// and consuming it in the same process, with no database on either side. Prints one line of figures.
    /// </summary>
    public static async Task RunBusFloorAsync(Uri broker, int count, int inFlight, int prefetch, CancellationToken ct)
    {
        var consumed = new FloorCounter();
        var queue = "bench-bus-floor-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var services = new ServiceCollection();
        services.AddSingleton(consumed);
        services.AddMassTransit(bus =>
        {
            bus.AddConsumer<FloorConsumer>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(broker);
                rabbit.ReceiveEndpoint(queue, endpoint =>
                {
                    endpoint.SetQuorumQueue();
                    endpoint.PrefetchCount = prefetch;
                    endpoint.ConfigureConsumer<FloorConsumer>(context);
                });
            });
        });
        await using var provider = services.BuildServiceProvider();
        var control = provider.GetRequiredService<IBusControl>();
        await control.StartAsync(ct);
        try
        {
            var publish = provider.GetRequiredService<IPublishEndpoint>();
            // A payload of the size of a normalized event, so the broker writes what it writes for the services.
            var payload = new string('x', 600);
            await publish.Publish(new BusFloorMessage(Guid.NewGuid(), payload), ct); // warm-up: exchange, bindings, JIT
            await consumed.WaitAsync(1, TimeSpan.FromSeconds(30), ct);

            var clock = Stopwatch.StartNew();
            using var slots = new SemaphoreSlim(inFlight);
            var pending = new List<Task>(count);
            for (var i = 0; i < count; i++)
            {
                await slots.WaitAsync(ct);
                pending.Add(PublishOneAsync(publish, new BusFloorMessage(Guid.NewGuid(), payload), slots, ct));
            }

            await Task.WhenAll(pending);
            var published = clock.Elapsed;
            await consumed.WaitAsync(count + 1, TimeSpan.FromMinutes(10), ct);
            var all = clock.Elapsed;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bus floor: {count} messages, {inFlight} publishes in flight, prefetch {prefetch}, quorum queue: " +
                $"published+confirmed {count / published.TotalSeconds:F0} msg/s, published and consumed {count / all.TotalSeconds:F0} msg/s"));
        }
        finally
        {
            await control.StopAsync(CancellationToken.None);
        }
    }

    private static async Task PublishOneAsync(IPublishEndpoint publish, BusFloorMessage message, SemaphoreSlim slots, CancellationToken ct)
    {
        try
        {
            await publish.Publish(message, ct);
        }
        finally
        {
            slots.Release();
        }
    }

    internal sealed class FloorCounter
    {
        private int _count;

        public void Add() => Interlocked.Increment(ref _count);

        /// <summary>Polls every 5 ms: precise enough for runs of seconds, and nothing on the consumer's path.</summary>
        public async Task WaitAsync(int target, TimeSpan timeout, CancellationToken ct)
        {
            var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
            while (Volatile.Read(ref _count) < target)
            {
                if (Stopwatch.GetTimestamp() > deadline)
                {
                    throw new TimeoutException($"{Volatile.Read(ref _count)} of {target} messages consumed after {timeout}");
                }

                await Task.Delay(5, ct);
            }
        }
    }

    internal sealed class FloorConsumer(FloorCounter counter) : IConsumer<BusFloorMessage>
    {
        public Task Consume(ConsumeContext<BusFloorMessage> context)
        {
            counter.Add();
            return Task.CompletedTask;
        }
    }
}

/// <summary>The bus floor's message (MassTransit needs message types in a namespace).</summary>
public sealed record BusFloorMessage(Guid Id, string Payload);
