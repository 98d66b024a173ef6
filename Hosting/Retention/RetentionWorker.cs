using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Pipeline.Hosting.Retention;

/// <summary>
/// Runs every registered <see cref="IPurgeJob"/> each <c>Retention:Interval</c>: batches of
/// <c>Retention:BatchSize</c> rows, each its own short transaction, with <c>Retention:PauseBetweenBatches</c> between
/// them, until a batch comes back short. Replicas need no coordination: each runs the same jobs at its own random
/// offset, and a row deleted by one is simply not there for the other.
/// </summary>
public sealed partial class RetentionWorker(
    IEnumerable<IPurgeJob> jobs,
    IServiceProvider services,
    IServiceScopeFactory scopes,
    IOptionsMonitor<RetentionOptions> options,
    ILogger<RetentionWorker> logger) : BackgroundService
{
    private readonly HashSet<IPurgeJob> _failing = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        List<(IPurgeJob Job, string Table)> all;
        await using (var scope = scopes.CreateAsyncScope())
        {
            all = [.. jobs.Select(job => (job, job.TableName(scope.ServiceProvider)))];
        }

        var first = options.CurrentValue.Interval;
        LogStarted(logger, string.Join(", ", all.Select(j => j.Table)), first);
        // The first round soon after start-up, at a random moment, so replicas started together do not purge in step.
        await Task.Delay(Jitter(TimeSpan.FromMilliseconds(Math.Min(first.TotalMilliseconds, 10_000))), stoppingToken)
            .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var (job, table) in all)
            {
                await PurgeAsync(job, table, stoppingToken);
            }

            var interval = options.CurrentValue.Interval;
            await Task.Delay(interval + Jitter(interval / 10), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task PurgeAsync(IPurgeJob job, string table, CancellationToken stoppingToken)
    {
        var settings = options.CurrentValue;
        var rows = 0;
        var related = 0;
        var batches = 0;
        var clock = Stopwatch.StartNew();
        try
        {
            var retention = job.Retention(services);
            var cutoff = DateTime.UtcNow - retention;
            while (true)
            {
                PurgedBatch batch;
                await using (var scope = scopes.CreateAsyncScope())
                {
                    batch = await job.PurgeBatchAsync(scope.ServiceProvider, cutoff, settings.BatchSize, stoppingToken);
                }

                batches++;
                rows += batch.Rows;
                related += batch.RelatedRows;
                RetentionMetrics.DeletedRows.WithLabels(table).Inc(batch.Rows);
                if (batch.Rows < settings.BatchSize)
                {
                    break;
                }

                await Task.Delay(settings.PauseBetweenBatches, stoppingToken);
            }

            if (_failing.Remove(job))
            {
                LogRecovered(logger, table);
            }

            if (rows > 0 && job.Related is { } what)
            {
                LogPurgedWithRelated(logger, rows, table, related, what, retention, batches, clock.ElapsedMilliseconds);
            }
            else if (rows > 0)
            {
                LogPurged(logger, rows, table, retention, batches, clock.ElapsedMilliseconds);
            }
            else
            {
                LogNothingToPurge(logger, table, retention);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // What was deleted stays deleted; the rest waits for the next round. One warning per streak of failures.
            RetentionMetrics.PurgeFailures.WithLabels(table).Inc();
            if (_failing.Add(job))
            {
                LogFailed(logger, table, rows, ex);
            }
        }
    }

    private static TimeSpan Jitter(TimeSpan upTo) => upTo * Random.Shared.NextDouble();

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: purging {Tables} every {Interval}")]
    private static partial void LogStarted(ILogger logger, string tables, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Retention: deleted {Count} rows from {Table} older than {Retention} ({Batches} batches, {ElapsedMs} ms)")]
    private static partial void LogPurged(ILogger logger, int count, string table, TimeSpan retention, int batches, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Retention: deleted {Count} rows from {Table} older than {Retention}, with {RelatedCount} rows of their {Related} ({Batches} batches, {ElapsedMs} ms)")]
    private static partial void LogPurgedWithRelated(
        ILogger logger, int count, string table, int relatedCount, string related, TimeSpan retention, int batches, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Retention: nothing in {Table} older than {Retention}")]
    private static partial void LogNothingToPurge(ILogger logger, string table, TimeSpan retention);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention: purging {Table} failed after {Count} rows; the rest waits for the next round")]
    private static partial void LogFailed(ILogger logger, string table, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: purging {Table} works again")]
    private static partial void LogRecovered(ILogger logger, string table);
}
