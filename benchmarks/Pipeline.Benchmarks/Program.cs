using System.CommandLine;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Pipeline.Benchmarks;
using Pipeline.Hosting.Outbox;
using Pipeline.Ingress.Receipts;
using Pipeline.Messages.Sandboxes;
using Pipeline.Persistence;
using Pipeline.Persistence.Ingress;

// The accept path's database work (receipt + outbox row in one commit, duplicates detected) measured against a
// baseline in the same run: what Ingress does (a pooled context; insert, and the unique index finds duplicates)
// versus the straightforward way (a new context per request; ask whether it is a duplicate, then insert).
// Runs alternate so drift on a shared machine hits both alike.
var postgres = new Option<string?>("--postgres")
{
    Description = "An Npgsql connection string; a throw-away database is created next to it (default: PIPELINE_TEST_POSTGRES, else SQLite)",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PIPELINE_TEST_POSTGRES"),
};
var events = new Option<int>("--events") { Description = "Webhooks per measured run", DefaultValueFactory = _ => 3000 };
var concurrency = new Option<int>("--concurrency") { Description = "Webhooks in flight", DefaultValueFactory = _ => 16 };
var rounds = new Option<int>("--rounds") { Description = "Measured runs per variant (the median is reported)", DefaultValueFactory = _ => 3 };
var root = new RootCommand("Accept-path benchmark: receipts and outbox rows per second, against a baseline measured in the same run.")
{
    postgres, events, concurrency, rounds,
};
root.SetAction(async (parse, ct) =>
{
    await using var database = await BenchDatabase.CreateAsync(parse.GetValue(postgres), ct);
    var bench = new AcceptBench(database.Services, database.Baseline, parse.GetValue(events), parse.GetValue(concurrency));
    Console.WriteLine($"accept path on {database.Description}: {parse.GetValue(events)} webhooks per run, {parse.GetValue(concurrency)} in flight, " +
                      $"median of {parse.GetValue(rounds)} runs; {Environment.ProcessorCount} cores");
    await bench.RunAsync(0.0, 1, ct); // warm-up: JIT, connection pool, query plans

    foreach (var duplicates in new[] { 0.0, 0.2 })
    {
        var runs = new[] { new List<RunResult>(), new List<RunResult>() };
        for (var i = 0; i < parse.GetValue(rounds); i++)
        {
            for (var variant = 0; variant < runs.Length; variant++)
            {
                runs[variant].Add(await bench.RunAsync(duplicates, variant, ct));
            }
        }

        var b = RunResult.Median(runs[0]);
        Console.WriteLine($"{duplicates:P0} duplicates:");
        Console.WriteLine($"  baseline (new context, query, then insert)  {b}");
        var w = RunResult.Median(runs[1]);
        Console.WriteLine($"  Ingress (pooled context, insert)            {w}");
        Console.WriteLine($"  ratio Ingress/baseline                      {w.PerSecond / b.PerSecond:0.00}x throughput, " +
                          $"{w.P99.TotalMilliseconds / b.P99.TotalMilliseconds:0.00}x p99, {w.AllocatedPerWebhook / (double)b.AllocatedPerWebhook:0.00}x bytes allocated");
    }

    return 0;
});
return await root.Parse(args).InvokeAsync();

namespace Pipeline.Benchmarks
{
    internal readonly record struct RunResult(double PerSecond, TimeSpan P50, TimeSpan P99, long AllocatedPerWebhook)
    {
        public static RunResult Median(List<RunResult> runs) => runs.OrderBy(r => r.PerSecond).ElementAt(runs.Count / 2);

        public override string ToString() =>
            $"{PerSecond,7:0} webhooks/s   p50 {P50.TotalMilliseconds,6:0.00} ms   p99 {P99.TotalMilliseconds,6:0.00} ms   {AllocatedPerWebhook / 1024.0,6:0.0} KiB allocated per webhook";
    }

    /// <param name="services">Ingress's registrations (<see cref="ReceiptWriter"/>, pooled contexts).</param>
    /// <param name="baseline">A new context per request.</param>
    internal sealed class AcceptBench(IServiceProvider services, IServiceProvider baseline, int count, int concurrency)
    {
        private static readonly byte[] Body = new byte[600];

        /// <param name="variant">0: the baseline, 1: <see cref="ReceiptWriter"/>.</param>
        public async Task<RunResult> RunAsync(double duplicateShare, int variant, CancellationToken cancellationToken)
        {
            await ClearAsync(cancellationToken);
            var distinct = (int)(count * (1 - duplicateShare));
            var keys = Enumerable.Range(0, distinct).Select(_ => Guid.NewGuid().ToString()).ToList();
            var random = new Random(42);
            var sends = keys.Concat(Enumerable.Range(0, count - distinct).Select(_ => keys[random.Next(distinct)])).OrderBy(_ => random.Next()).ToList();
            var latencies = new TimeSpan[sends.Count];

            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, sends.Count), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken },
                async (i, ct) =>
                {
                    var started = Stopwatch.GetTimestamp();
                    await using var scope = (variant == 0 ? baseline : services).CreateAsyncScope();
                    var webhook = Webhook(sends[i]);
                    _ = variant == 0
                        ? await BaselineAcceptAsync(scope.ServiceProvider, webhook, ct)
                        : await scope.ServiceProvider.GetRequiredService<ReceiptWriter>().AcceptAsync(webhook, ct);
                    latencies[i] = Stopwatch.GetElapsedTime(started);
                });
            var elapsed = clock.Elapsed;
            allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;

            await using (var scope = services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
                var receipts = await db.Receipts.CountAsync(cancellationToken);
                if (receipts != distinct || await db.Outbox.CountAsync(cancellationToken) != distinct)
                {
                    throw new InvalidOperationException($"expected {distinct} receipts and outbox rows, found {receipts}");
                }
            }

            Array.Sort(latencies);
            return new RunResult(sends.Count / elapsed.TotalSeconds, latencies[latencies.Length / 2], latencies[(int)(latencies.Length * 0.99)], allocated / sends.Count);
        }

        private static IncomingWebhook Webhook(string key)
        {
            var receiptId = Guid.CreateVersion7();
            var now = DateTime.UtcNow;
            var message = new SandboxLifecycleEventV1
            {
                EventId = key,
                SandboxId = "sbx-" + key[..8],
                Label = SandboxLabels.Create,
                EventType = "sandbox.lifecycle.created",
                OccurredAt = now,
                ReceiptId = receiptId,
                SourceFormat = "v2",
            };
            return new IncomingWebhook(receiptId, "e2b", key, now, "{}", Body, [message]);
        }

        /// <summary>The baseline: a query for the key, then the insert.</summary>
        private static async Task<AcceptOutcome> BaselineAcceptAsync(IServiceProvider scope, IncomingWebhook webhook, CancellationToken ct)
        {
            var db = scope.GetRequiredService<IngressDbContext>();
            if (await db.Receipts.AsNoTracking().AnyAsync(r => r.Provider == webhook.Provider && r.DedupKey == webhook.DedupKey, ct))
            {
                return AcceptOutcome.Duplicate;
            }

            db.Receipts.Add(new Receipt
            {
                Id = webhook.ReceiptId, Provider = webhook.Provider, DedupKey = webhook.DedupKey,
                ReceivedAt = webhook.ReceivedAt, Headers = webhook.Headers, Body = webhook.Body,
            });
            foreach (var message in webhook.Messages)
            {
                db.Outbox.Enqueue(message, webhook.ReceiptId, webhook.ReceivedAt);
            }

            try
            {
                await db.SaveChangesAsync(ct);
                return AcceptOutcome.Accepted;
            }
            catch (DbUpdateException)
            {
                return AcceptOutcome.Duplicate;
            }
        }

        private async Task ClearAsync(CancellationToken ct)
        {
            await using var scope = services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
            await db.Outbox.ExecuteDeleteAsync(ct);
            await db.Receipts.ExecuteDeleteAsync(ct);
        }
    }

    /// <summary>A throw-away Ingress database: a new PostgreSQL database, or a SQLite file in the temp directory.</summary>
    internal sealed class BenchDatabase : IAsyncDisposable
    {
        private readonly string? _admin;
        private readonly string _name;

        private BenchDatabase(ServiceProvider services, ServiceProvider baseline, string description, string? admin, string name)
        {
            Services = services;
            Baseline = baseline;
            Description = description;
            _admin = admin;
            _name = name;
        }

        public ServiceProvider Services { get; }
        public ServiceProvider Baseline { get; }
        public string Description { get; }

        public static async Task<BenchDatabase> CreateAsync(string? postgres, CancellationToken ct)
        {
            var name = "bench_" + Guid.NewGuid().ToString("N")[..12];
            string provider, connection, description;
            if (string.IsNullOrEmpty(postgres))
            {
                provider = nameof(DatabaseProvider.Sqlite);
                connection = $"Data Source={Path.Combine(Path.GetTempPath(), name + ".db")}";
                description = "SQLite (WAL, temp file)";
            }
            else
            {
                await ExecuteAsync(postgres, $"CREATE DATABASE \"{name}\"", ct);
                provider = nameof(DatabaseProvider.PostgreSql);
                connection = new NpgsqlConnectionStringBuilder(postgres) { Database = name }.ConnectionString;
                description = $"PostgreSQL ({new NpgsqlConnectionStringBuilder(postgres).Host}:{new NpgsqlConnectionStringBuilder(postgres).Port})";
            }

            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Database:Provider"] = provider,
                ["ConnectionStrings:Ingress"] = connection,
            }).Build();
            var services = new ServiceCollection()
                .AddSingleton<IConfiguration>(configuration)
                .AddLogging()
                .AddPipelineDbContext<IngressDbContext, SqliteIngressDbContext, PostgreSqlIngressDbContext, SqlServerIngressDbContext>(
                    configuration, "Ingress", IngressDbContext.MigrationsHistoryTable)
                .AddSingleton<OutboxSignal<IngressDbContext>>()
                .AddScoped<ReceiptWriter>()
                .BuildServiceProvider();
            await services.PrepareDatabaseAsync<IngressDbContext>(ct);
            var databaseProvider = Enum.Parse<DatabaseProvider>(provider);
            void PerRequest(DbContextOptionsBuilder o) => o.UsePipelineProvider(databaseProvider, connection, IngressDbContext.MigrationsHistoryTable);
            var baseline = databaseProvider == DatabaseProvider.Sqlite
                ? new ServiceCollection().AddDbContext<IngressDbContext, SqliteIngressDbContext>(PerRequest)
                : new ServiceCollection().AddDbContext<IngressDbContext, PostgreSqlIngressDbContext>(PerRequest);
            return new BenchDatabase(services, baseline.BuildServiceProvider(), description, string.IsNullOrEmpty(postgres) ? null : postgres, name);
        }

        public async ValueTask DisposeAsync()
        {
            await Services.DisposeAsync();
            await Baseline.DisposeAsync();
            if (_admin is null)
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                foreach (var file in Directory.GetFiles(Path.GetTempPath(), _name + ".db*"))
                {
                    File.Delete(file);
                }

                return;
            }

            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(_admin, $"DROP DATABASE IF EXISTS \"{_name}\" WITH (FORCE)", CancellationToken.None);
        }

        private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken ct)
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync(ct);
        }
    }
}
