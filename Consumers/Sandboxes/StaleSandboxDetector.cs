using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Outbox;
using Pipeline.Messages.Sandboxes;
using Pipeline.Persistence.Sandboxes;
using Prometheus;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>
/// Every <c>Sandboxes:StaleCheckInterval</c>, marks the running and paused sandboxes whose last lifecycle event is
/// older than <c>Sandboxes:StaleAfter</c> as stale and enqueues one <see cref="SandboxStaleV1"/> each, in the same
/// transaction, on the service's own outbox. Safe with several replicas: a batch commits only if no row in it changed
/// since it was read (the sandbox's version), so of two replicas marking the same sandbox, or of the check and a
/// consumer applying a fresh event, one wins and the other's batch rolls back, announcement included, and is looked at
/// again on the next pass.
/// </summary>
public sealed partial class StaleSandboxDetector(
    IServiceScopeFactory scopes,
    IOptionsMonitor<SandboxesOptions> options,
    OutboxSignal<SandboxesDbContext> outboxSignal,
    ILogger<StaleSandboxDetector> logger) : BackgroundService
{
    public const int BatchSize = 200;

    /// <summary>Batches per pass at most, so a pass that keeps losing races ends and leaves the rest for the next.</summary>
    private const int MaxBatchesPerPass = 50;

    private static readonly Counter Marked = Metrics.CreateCounter(
        "pipeline_sandboxes_stale_total", "Sandboxes marked stale (running or paused with no lifecycle event for Sandboxes:StaleAfter).");

    private static readonly Counter Conflicts = Metrics.CreateCounter(
        "pipeline_sandboxes_stale_conflicts_total", "Stale-check batches rolled back because another replica or a consumer changed a sandbox first.");

    private bool _failing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(logger, options.CurrentValue.StaleAfter, options.CurrentValue.StaleCheckInterval);
        while (!stoppingToken.IsCancellationRequested)
        {
            var interval = options.CurrentValue.StaleCheckInterval;
            // Replicas started together drift apart, so they rarely race for the same rows.
            await Task.Delay(interval + interval / 10 * Random.Shared.NextDouble(), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (stoppingToken.IsCancellationRequested)
            {
                break;
            }

            try
            {
                await MarkAsync(stoppingToken);
                if (_failing)
                {
                    _failing = false;
                    LogRecovered(logger);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                if (!_failing)
                {
                    _failing = true;
                    LogFailed(logger, ex);
                }
            }
        }
    }

    /// <returns>How many sandboxes this pass marked.</returns>
    public async Task<int> MarkAsync(CancellationToken cancellationToken)
    {
        var staleAfter = options.CurrentValue.StaleAfter;
        var marked = 0;
        for (var batch = 0; batch < MaxBatchesPerPass; batch++)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<SandboxesDbContext>();
            var now = DateTime.UtcNow;
            var cutoff = now - staleAfter;
            var stale = await db.Sandboxes
                .Where(s => (s.State == SandboxStates.Running || s.State == SandboxStates.Paused) && s.StaleAt == null && s.LastEventAt < cutoff)
                .OrderBy(s => s.LastEventAt)
                .Take(BatchSize)
                .ToListAsync(cancellationToken);
            if (stale.Count == 0)
            {
                break;
            }

            foreach (var sandbox in stale)
            {
                sandbox.StaleAt = now;
                sandbox.UpdatedAt = now;
                sandbox.Version++;
                db.Outbox.Enqueue(new SandboxStaleV1
                {
                    SandboxId = sandbox.SandboxId,
                    TeamId = sandbox.TeamId,
                    TemplateId = sandbox.TemplateId,
                    State = sandbox.State,
                    LastEventAt = new DateTimeOffset(DateTime.SpecifyKind(sandbox.LastEventAt, DateTimeKind.Utc)),
                    StaleAfterSeconds = staleAfter.TotalSeconds,
                    At = new DateTimeOffset(now),
                }, receiptId: null, now);
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                Conflicts.Inc();
                LogConflict(logger, stale.Count);
                continue;
            }

            outboxSignal.Notify();
            marked += stale.Count;
            Marked.Inc(stale.Count);
            foreach (var sandbox in stale)
            {
                LogStale(logger, sandbox.SandboxId, sandbox.TeamId ?? "-", sandbox.TemplateId ?? "-", sandbox.State, sandbox.LastEventAt, staleAfter);
            }

            if (stale.Count < BatchSize)
            {
                break;
            }
        }

        return marked;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stale check: sandboxes running or paused with no lifecycle event for {StaleAfter} are marked stale, checked every {Interval}")]
    private static partial void LogStarted(ILogger logger, TimeSpan staleAfter, TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sandbox {SandboxId} (team {TeamId}, template {TemplateId}) is stale: {State} with no lifecycle event since {LastEventAt:O} (more than {StaleAfter}); sandbox.stale published")]
    private static partial void LogStale(ILogger logger, string sandboxId, string teamId, string templateId, string state, DateTime lastEventAt, TimeSpan staleAfter);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stale check: {Count} sandboxes changed while being marked (another replica, or a new event); looked at again")]
    private static partial void LogConflict(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stale check failed; it runs again at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stale check works again")]
    private static partial void LogRecovered(ILogger logger);
}
