using System.Diagnostics;
using MassTransit;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.Telemetry;
using Prometheus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Persistence.Outbox;

namespace Pipeline.Hosting.Outbox;

/// <summary>
/// Publishes outbox rows: woken after each commit, polling as a fallback, and claiming again at once only after a full
/// batch (a partial one took everything pending). Rows are claimed with a lease, published
/// with publisher confirms under the row id as MessageId, and marked sent only after the broker confirmed them.
/// While the broker is away, rows wait with a growing delay; nothing is dropped.
/// </summary>
public sealed partial class OutboxDispatcher<TContext>(
    IServiceScopeFactory scopes,
    IBus bus,
    OutboxSignal<TContext> signal,
    IOptionsMonitor<OutboxOptions> options,
    ILogger<OutboxDispatcher<TContext>> logger) : BackgroundService
    where TContext : IOutboxDbContext
{
    private static readonly string ContextName = typeof(TContext).Name;
    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}";
    private DateTime _nextMeasure = DateTime.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(logger, typeof(TContext).Name, _owner);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            var settings = options.CurrentValue;
            try
            {
                await MeasureBacklogAsync(stoppingToken);
                var (claimed, published, failed) = await DispatchBatchAsync(settings, stoppingToken);
                failures = failed > 0 && published == 0 ? failures + 1 : 0;
                if (claimed == settings.BatchSize && failed == 0)
                {
                    continue; // there may be more waiting
                }

                // Everything pending was claimed: a commit since the claim has signalled, and the wait ends at once for it.
                var wait = failures > 0 ? Backoff(failures, settings) : settings.PollInterval;
                await signal.WaitAsync(wait, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                failures++;
                LogDispatchFailed(logger, ex);
                await Task.Delay(Backoff(failures, settings), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task<(int Claimed, int Published, int Failed)> DispatchBatchAsync(OutboxOptions settings, CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var store = scope.ServiceProvider.GetRequiredService<OutboxStore<TContext>>();
        var rows = await store.ClaimAsync(settings.BatchSize, settings.Lease, _owner, stoppingToken);
        if (rows.Count == 0)
        {
            return (0, 0, 0);
        }

        // One span per batch; each row's publish span continues the trace of the request that wrote the row.
        using var batch = PipelineTelemetry.Source.StartActivity("outbox dispatch", ActivityKind.Internal, parentContext: default);
        batch?.SetTag("pipeline.outbox", ContextName);
        batch?.SetTag("pipeline.outbox.claimed", rows.Count);
        var results = await Task.WhenAll(rows.Select(row => PublishAsync(row, batch, settings, stoppingToken)));
        var sent = new List<Guid>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            if (results[i] is null)
            {
                sent.Add(rows[i].Id);
            }
        }

        if (sent.Count > 0)
        {
            // Not cancellable: the broker has these, so recording it must not be skipped at shutdown.
            await store.MarkSentAsync(sent, CancellationToken.None);
            OutboxMetrics.Published.WithLabels(ContextName).Inc(sent.Count);
            var now = DateTime.UtcNow;
            foreach (var row in rows.Where((_, i) => results[i] is null))
            {
                OutboxMetrics.DispatchDelay.WithLabels(ContextName).Observe((now - row.CreatedAt).TotalSeconds);
            }
        }

        var failed = rows.Count - sent.Count;
        batch?.SetTag("pipeline.outbox.failed", failed);
        if (failed > 0)
        {
            batch?.SetStatus(ActivityStatusCode.Error);
            OutboxMetrics.PublishFailures.WithLabels(ContextName).Inc(failed);
            for (var i = 0; i < rows.Count; i++)
            {
                if (results[i] is { } error)
                {
                    var retryAt = DateTime.UtcNow + Backoff(rows[i].Attempts + 1, settings);
                    await store.ReleaseFailedAsync(rows[i].Id, error, retryAt, CancellationToken.None);
                }
            }

            LogPublishFailed(logger, failed, rows.Count, results.First(r => r is not null)!);
        }

        LogPublished(logger, sent.Count);
        return (rows.Count, sent.Count, failed);
    }

    /// <returns>null when the broker confirmed the message, else why it failed.</returns>
    private async Task<string?> PublishAsync(OutboxMessage row, Activity? batch, OutboxOptions settings, CancellationToken stoppingToken)
    {
        using var activity = PipelineTelemetry.StartOutboxPublish(row.TraceParent, row.Id, row.MessageType, batch);
        try
        {
            var message = OutboxMessageTypes.Deserialize(row.MessageType, row.Body);
            using var timer = OutboxMetrics.PublishDuration.WithLabels(ContextName).NewTimer();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(settings.PublishTimeout);
            await bus.Publish(message, message.GetType(), context =>
            {
                context.MessageId = row.Id;
                if (row.ReceiptId is { } receiptId)
                {
                    context.Headers.Set(PipelineHeaders.ReceiptId, receiptId.ToString());
                }

                // An unroutable message (no queue bound yet) fails instead of vanishing, and stays in the outbox.
                if (OutboxMessageTypes.RequiresSubscriber(message.GetType()) && context.TryGetPayload<RabbitMqSendContext>(out var rabbit))
                {
                    rabbit.Mandatory = true;
                }
            }, timeout.Token);
            return null;
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            return $"{ex.GetType().Name}: {ex.Message}";
        }
    }

    /// <summary>Backlog gauges, refreshed every couple of seconds whatever the dispatcher is doing.</summary>
    private async Task MeasureBacklogAsync(CancellationToken stoppingToken)
    {
        if (DateTime.UtcNow < _nextMeasure)
        {
            return;
        }

        _nextMeasure = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        await using var scope = scopes.CreateAsyncScope();
        var (pending, oldest) = await scope.ServiceProvider.GetRequiredService<OutboxStore<TContext>>().BacklogAsync(stoppingToken);
        OutboxMetrics.Pending.WithLabels(ContextName).Set(pending);
        OutboxMetrics.OldestAge.WithLabels(ContextName).Set(oldest is { } at ? Math.Max(0, (DateTime.UtcNow - at).TotalSeconds) : 0);
    }

    private static TimeSpan Backoff(int attempt, OutboxOptions settings)
    {
        var millis = 200 * Math.Pow(2, Math.Min(attempt, 16));
        var jitter = Random.Shared.NextDouble() * 0.2 + 0.9;
        return TimeSpan.FromMilliseconds(Math.Min(millis * jitter, settings.MaxRetryDelay.TotalMilliseconds));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox dispatcher for {Context} started as {Owner}")]
    private static partial void LogStarted(ILogger logger, string context, string owner);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published {Count} outbox messages")]
    private static partial void LogPublished(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Failed} of {Claimed} outbox messages were not published and will be retried: {Error}")]
    private static partial void LogPublishFailed(ILogger logger, int failed, int claimed, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox dispatch round failed; retrying")]
    private static partial void LogDispatchFailed(ILogger logger, Exception exception);
}
