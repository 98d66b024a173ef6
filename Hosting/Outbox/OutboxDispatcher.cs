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
/// Publishes outbox rows: those handed over in memory by a commit (<see cref="OutboxSignal{TContext}.Handoff"/>, already
/// leased to this dispatcher), and those it claims from the table: after a commit that signalled, at start, on a poll
/// as a fallback (also while handed rows keep coming), and again at once after a full claim. A claim leases the rows. Rows are published with publisher
/// confirms under the row id as MessageId, in rounds of up to <see cref="OutboxOptions.BatchSize"/>; up to
/// <see cref="OutboxOptions.PublishRounds"/> rounds are in flight at once, so a commit's rows do not wait for the confirms
/// of those published before them. They are deleted (or marked sent, <see cref="OutboxOptions.RetainSent"/>) only after
/// the broker confirmed them: those confirmed within <see cref="OutboxOptions.CompleteDelay"/> together, in one statement
/// (they stay leased meanwhile; a process that dies first has them published again once the lease lapses, which the
/// consumers' inboxes absorb). While the broker is
/// away, rows wait with a growing delay; nothing is dropped. At a graceful stop, the leases of rows not published are
/// given back (those waiting in memory and those of a publish the stop cut short), so the next dispatcher does not wait
/// for them to lapse.
/// </summary>
public sealed partial class OutboxDispatcher<TContext>(
    IServiceScopeFactory scopes,
    IBus bus,
    OutboxSignal<TContext> signal,
    IOptionsMonitor<OutboxOptions> options,
    ILogger<OutboxDispatcher<TContext>> logger,
    ConsumerQueueCheck? consumerQueues = null) : BackgroundService
    where TContext : IOutboxDbContext
{
    private static readonly string ContextName = typeof(TContext).Name;
    private static readonly Histogram.Child PublishDuration = OutboxMetrics.PublishDuration.WithLabels(ContextName);
    private static readonly Histogram.Child DispatchDelay = OutboxMetrics.DispatchDelay.WithLabels(ContextName);
    private static readonly Gauge.Child InFlight = OutboxMetrics.InFlight.WithLabels(ContextName);
    private DateTime _nextMeasure = DateTime.MinValue;

    /// <summary>The most confirmed rows completed in one statement; more are completed at once.</summary>
    private const int MaxComplete = 5000;

    private readonly List<Guid> _confirmed = [];
    private DateTime _completeAt;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(logger, typeof(TContext).Name, signal.Owner);
        var failures = 0;
        var nextClaim = DateTime.MinValue; // at once: what the table holds from before this process
        var rounds = new List<Round>(); // published, waiting for the broker's confirms
        while (!stoppingToken.IsCancellationRequested)
        {
            var settings = options.CurrentValue;
            try
            {
                await MeasureBacklogAsync(stoppingToken);
                failures = await SettleAsync(rounds, settings, failures);
                await CompleteAsync(settings, due: false);

                // A claim first when one is due, so that a steady handoff never starves the rows only a claim finds: those
                // written beyond the handoff's room, other writers', and lapsed leases (the poll).
                var more = false;
                if (rounds.Count < settings.PublishRounds && (signal.TakeClaimRequest() || DateTime.UtcNow >= nextClaim))
                {
                    nextClaim = DateTime.UtcNow + settings.PollInterval;
                    var claimed = await ClaimAsync(settings, stoppingToken);
                    if (claimed.Count > 0)
                    {
                        rounds.Add(StartRound(claimed, settings, stoppingToken));
                    }

                    if (claimed.Count == settings.BatchSize && failures == 0)
                    {
                        nextClaim = DateTime.MinValue; // there may be more waiting
                        more = true;
                    }
                }

                if (rounds.Count < settings.PublishRounds)
                {
                    var handed = signal.TakeHanded(settings.BatchSize);
                    if (handed.Count > 0)
                    {
                        rounds.Add(StartRound(handed, settings, stoppingToken));
                        more = true;
                    }
                }

                if (more && rounds.Count < settings.PublishRounds)
                {
                    continue;
                }

                // A partial claim took everything claimable; a commit since then, or a round's confirms, end the wait at once.
                var wait = failures > 0 && rounds.Count == 0 ? Backoff(failures, settings) : settings.PollInterval;
                if (_confirmed.Count > 0)
                {
                    wait = TimeSpan.FromTicks(Math.Clamp((_completeAt - DateTime.UtcNow).Ticks, 0, wait.Ticks));
                }

                await signal.WaitAsync(wait, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                failures++;
                nextClaim = DateTime.MinValue;
                LogDispatchFailed(logger, ex);
                await Task.Delay(Backoff(failures, settings), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        // What the broker confirmed is completed; a publish cut short by the stop completed nothing (its rows are given
        // back below and published again, and consumers see the copies as redeliveries).
        var unpublished = new List<OutboxMessage>();
        foreach (var round in rounds)
        {
            try
            {
                await SettleRoundAsync(round, options.CurrentValue);
            }
            catch (Exception)
            {
                unpublished.AddRange(round.Rows);
            }
        }

        try
        {
            await CompleteAsync(options.CurrentValue, due: true);
        }
        catch (Exception ex)
        {
            LogCompleteFailed(logger, _confirmed.Count, ex);
        }

        await ReleaseAsync([.. unpublished, .. signal.TakeHanded(int.MaxValue)]);
    }

    /// <summary>Rows being published, and each one's outcome once the broker answered: null when it confirmed, else why not.</summary>
    private sealed record Round(List<OutboxMessage> Rows, Task<string?[]> Results);

    /// <summary>Settles the rounds whose confirms are all in, and returns the count of rounds in a row that published nothing.</summary>
    private async Task<int> SettleAsync(List<Round> rounds, OutboxOptions settings, int failures)
    {
        for (var i = 0; i < rounds.Count; i++)
        {
            // Still waiting for confirms, or (at a stop) cut short: those are settled or given back after the loop.
            if (!rounds[i].Results.IsCompletedSuccessfully)
            {
                continue;
            }

            var round = rounds[i];
            rounds.RemoveAt(i--);
            var (published, failed) = await SettleRoundAsync(round, settings);
            failures = failed > 0 && published == 0 ? failures + 1 : 0;
        }

        return failures;
    }

    private async Task<List<OutboxMessage>> ClaimAsync(OutboxOptions settings, CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<OutboxStore<TContext>>()
            .ClaimAsync(settings.BatchSize, settings.Lease, signal.Owner, stoppingToken);
    }

    /// <summary>
    /// Deletes (or marks sent) the rows the broker confirmed, once the oldest has waited <see cref="OutboxOptions.CompleteDelay"/>, when
    /// there are <see cref="MaxComplete"/>, or when <paramref name="due"/>. Not cancellable: the broker has these, so
    /// recording it must not be skipped at shutdown. When it fails the rows stay here and are completed on a later round.
    /// </summary>
    private async Task CompleteAsync(OutboxOptions settings, bool due)
    {
        if (_confirmed.Count == 0 || (!due && _confirmed.Count < MaxComplete && DateTime.UtcNow < _completeAt))
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<OutboxStore<TContext>>()
            .CompleteAsync(_confirmed, settings.RetainSent > TimeSpan.Zero, CancellationToken.None);
        _confirmed.Clear();
    }

    /// <summary>Starts publishing rows leased to this dispatcher; the dispatcher is woken when the broker has answered for all.</summary>
    private Round StartRound(List<OutboxMessage> rows, OutboxOptions settings, CancellationToken stoppingToken) =>
        new(rows, PublishRoundAsync(rows, settings, stoppingToken));

    private async Task<string?[]> PublishRoundAsync(List<OutboxMessage> rows, OutboxOptions settings, CancellationToken stoppingToken)
    {
        // One span per round; each row's publish span continues the trace of the request that wrote the row.
        using var round = PipelineTelemetry.Source.StartActivity("outbox dispatch", ActivityKind.Internal, parentContext: default);
        round?.SetTag("pipeline.outbox", ContextName);
        round?.SetTag("pipeline.outbox.claimed", rows.Count);
        InFlight.Inc(rows.Count);
        try
        {
            // The rows are published side by side, so one timeout for the round is each row's timeout.
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(settings.PublishTimeout);
            var checkQueues = settings.WaitForConsumerQueues ? consumerQueues : null;
            var results = await Task.WhenAll(rows.Select(row => PublishAsync(row, round, checkQueues, timeout.Token, stoppingToken)));
            var failed = results.Count(r => r is not null);
            round?.SetTag("pipeline.outbox.failed", failed);
            if (failed > 0)
            {
                round?.SetStatus(ActivityStatusCode.Error);
            }

            return results;
        }
        finally
        {
            InFlight.Dec(rows.Count);
            signal.Wake();
        }
    }

    /// <summary>Queues a published round's confirmed rows for completion and reschedules the others.</summary>
    private async Task<(int Published, int Failed)> SettleRoundAsync(Round round, OutboxOptions settings)
    {
        var (rows, results) = (round.Rows, await round.Results);
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
            if (_confirmed.Count == 0)
            {
                _completeAt = DateTime.UtcNow + settings.CompleteDelay;
            }

            _confirmed.AddRange(sent);
            OutboxMetrics.Published.WithLabels(ContextName).Inc(sent.Count);
            var now = DateTime.UtcNow;
            foreach (var row in rows.Where((_, i) => results[i] is null))
            {
                DispatchDelay.Observe((now - row.CreatedAt).TotalSeconds);
            }
        }

        var failed = rows.Count - sent.Count;
        if (failed > 0)
        {
            OutboxMetrics.PublishFailures.WithLabels(ContextName).Inc(failed);
            await using var scope = scopes.CreateAsyncScope();
            var store = scope.ServiceProvider.GetRequiredService<OutboxStore<TContext>>();
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
        return (sent.Count, failed);
    }

    /// <summary>At a stop: rows leased to this dispatcher and not published become claimable at once instead of when their lease lapses.</summary>
    private async Task ReleaseAsync(List<OutboxMessage> rows)
    {
        if (rows.Count == 0)
        {
            return;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<OutboxStore<TContext>>().ReleaseAsync(rows.ConvertAll(r => r.Id), CancellationToken.None);
            LogReleased(logger, rows.Count);
        }
        catch (Exception ex)
        {
            LogReleaseFailed(logger, rows.Count, ex);
        }
    }

    /// <returns>null when the broker confirmed the message, else why it failed.</returns>
    /// <param name="consumerQueues">Set: a domain contract waits while its consumer's queue is missing.</param>
    private async Task<string?> PublishAsync(
        OutboxMessage row, Activity? batch, ConsumerQueueCheck? consumerQueues, CancellationToken timeout, CancellationToken stoppingToken)
    {
        using var activity = PipelineTelemetry.StartOutboxPublish(row.TraceParent, row.Id, row.MessageType, batch);
        try
        {
            var message = row.Message ?? OutboxMessageTypes.Deserialize(row.MessageType, row.Body);
            var consumerQueue = OutboxMessageTypes.ConsumerQueueOf(message.GetType());
            if (consumerQueue is not null && consumerQueues is not null && await consumerQueues.MissingAsync(consumerQueue, timeout) is { } missing)
            {
                return missing;
            }

            using var timer = PublishDuration.NewTimer();
            await bus.Publish(message, message.GetType(), context =>
            {
                context.MessageId = row.Id;
                if (row.ReceiptId is { } receiptId)
                {
                    context.Headers.Set(PipelineHeaders.ReceiptId, receiptId.ToString());
                }

                // An unroutable message (no queue bound yet) fails instead of vanishing, and stays in the outbox.
                if (consumerQueue is not null && context.TryGetPayload<RabbitMqSendContext>(out var rabbit))
                {
                    rabbit.Mandatory = true;
                }
            }, timeout);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not complete {Count} published outbox messages at the stop; they are published again once their leases lapse")]
    private static partial void LogCompleteFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Gave back the leases of {Count} outbox messages not published at the stop")]
    private static partial void LogReleased(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not give back the leases of {Count} outbox messages at the stop; they are published once the leases lapse")]
    private static partial void LogReleaseFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox dispatch round failed; retrying")]
    private static partial void LogDispatchFailed(ILogger logger, Exception exception);
}
