using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Pipeline.Hosting.Batching;
using Pipeline.Hosting.Outbox;
using Pipeline.Ingress.Receipts;
using Pipeline.Messages.Sandboxes;
using Pipeline.Persistence;
using Pipeline.Persistence.Ingress;

namespace Pipeline.Benchmarks;

internal readonly record struct RunResult(double PerSecond, TimeSpan P50, TimeSpan P99, long AllocatedPerWebhook)
{
    public static RunResult Median(List<RunResult> runs) => runs.OrderBy(r => r.PerSecond).ElementAt(runs.Count / 2);

    public override string ToString() => Describe("webhook", "webhooks");

    /// <param name="unit">What is counted: webhook, delivery, …</param>
    public string Describe(string unit, string units) =>
        $"{PerSecond,7:0} {units}/s   p50 {P50.TotalMilliseconds,6:0.00} ms   p99 {P99.TotalMilliseconds,6:0.00} ms   {AllocatedPerWebhook / 1024.0,6:0.0} KiB allocated per {unit}";
}

/// <summary>Runs two variants in turn (so drift on a shared machine hits both alike) and prints medians and ratios.</summary>
internal static class Compare
{
    public static async Task PrintAsync(
        string heading, int rounds, (string Name, Func<Task<RunResult>> Run) baseline, (string Name, Func<Task<RunResult>> Run) candidate,
        string unit = "webhook", string units = "webhooks")
    {
        var baselineRuns = new List<RunResult>();
        var candidateRuns = new List<RunResult>();
        for (var i = 0; i < rounds; i++)
        {
            baselineRuns.Add(await baseline.Run());
            candidateRuns.Add(await candidate.Run());
        }

        var b = RunResult.Median(baselineRuns);
        var c = RunResult.Median(candidateRuns);
        var width = Math.Max(baseline.Name.Length, candidate.Name.Length) + 2;
        Console.WriteLine(heading + ":");
        Console.WriteLine($"  {baseline.Name.PadRight(width)}{b.Describe(unit, units)}");
        Console.WriteLine($"  {candidate.Name.PadRight(width)}{c.Describe(unit, units)}");
        Console.WriteLine($"  {"ratio".PadRight(width)}{c.PerSecond / b.PerSecond:0.00}x throughput, " +
                          $"{c.P99.TotalMilliseconds / b.P99.TotalMilliseconds:0.00}x p99, {c.AllocatedPerWebhook / (double)b.AllocatedPerWebhook:0.00}x bytes allocated");
    }

    /// <summary>Throughput, median and 99th percentile latency, and bytes allocated per request of one run.</summary>
    public static RunResult Result(TimeSpan elapsed, TimeSpan[] latencies, long allocated)
    {
        Array.Sort(latencies);
        return new RunResult(latencies.Length / elapsed.TotalSeconds, latencies[latencies.Length / 2], latencies[(int)(latencies.Length * 0.99)], allocated / latencies.Length);
    }
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
                    : await services.GetRequiredService<ReceiptWriter>().AcceptAsync(webhook, ct);
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

        return Compare.Result(elapsed, latencies, allocated);
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
        return new IncomingWebhook(receiptId, "e2b", key, now, "{}", Body, [OutboxRegistration.Row(message, receiptId, now)]);
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
        db.Outbox.AddRange(webhook.Outbox);

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

    private BenchDatabase(ServiceProvider services, ServiceProvider baseline, string description, string? admin, string name,
        DatabaseProvider provider, string connectionString)
    {
        Services = services;
        Baseline = baseline;
        Provider = provider;
        ConnectionString = connectionString;
        Description = description;
        _admin = admin;
        _name = name;
    }

    public ServiceProvider Services { get; }
    public ServiceProvider Baseline { get; }
    public DatabaseProvider Provider { get; }
    public string ConnectionString { get; }
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
            .AddGroupCommitOptions(ReceiptWriter.GroupCommitName, ReceiptWriter.GroupCommitSection, ReceiptWriter.Linger)
            .AddSingleton<ReceiptWriter>()
            .BuildServiceProvider();
        await services.PrepareDatabaseAsync<IngressDbContext>(ct);
        var databaseProvider = Enum.Parse<DatabaseProvider>(provider);
        void PerRequest(DbContextOptionsBuilder o) => o.UsePipelineProvider(databaseProvider, connection, IngressDbContext.MigrationsHistoryTable);
        var baseline = databaseProvider == DatabaseProvider.Sqlite
            ? new ServiceCollection().AddDbContext<IngressDbContext, SqliteIngressDbContext>(PerRequest)
            : new ServiceCollection().AddDbContext<IngressDbContext, PostgreSqlIngressDbContext>(PerRequest);
        return new BenchDatabase(services, baseline.BuildServiceProvider(), description, string.IsNullOrEmpty(postgres) ? null : postgres, name,
            databaseProvider, connection);
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
