using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Sending;

/// <summary>
/// Sends what the fan-out recorded: one <see cref="EndpointLane"/> per enabled endpoint (reloaded every
/// <c>Deliveries:EndpointRefreshInterval</c> or when this process changed one), at most <c>Deliveries:MaxInFlight</c>
/// sends at once. Every replica runs one; their claims keep them from sending the same attempt at once. A process
/// killed mid-send loses nothing: its claims run out and the attempts are made again, under the same webhook-id.
/// </summary>
public sealed partial class DeliveryWorker(
    IServiceScopeFactory scopes,
    DeliverySender sender,
    DeliverySignal signal,
    DeliveryHandoff handoff,
    IOptionsMonitor<DeliveriesOptions> options,
    ILogger<DeliveryWorker> logger) : BackgroundService
{
    private readonly string _owner = handoff.Owner;
    private readonly Dictionary<Guid, EndpointLane> _lanes = [];
    private readonly ConcurrentDictionary<Guid, Task> _sends = new();

    // Attempts wait here to be recorded in batches: one transaction for all that finished meanwhile.
    private readonly Channel<PendingRecord> _records = Channel.CreateUnbounded<PendingRecord>(new UnboundedChannelOptions { SingleReader = true });
    private const int MaxRecordBatch = 200;
    private readonly SemaphoreSlim _slots = new(options.CurrentValue.MaxInFlight, options.CurrentValue.MaxInFlight);

    // Cancelled only when the host stops waiting for a graceful shutdown: sends in flight get until then to finish.
    private readonly CancellationTokenSource _abort = new();

    internal DeliveriesOptions Settings => options.CurrentValue;

    internal DeliverySignal Signal => signal;

    internal DeliveryHandoff Handoff => handoff;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await using var _ = cancellationToken.Register(_abort.Cancel);
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _abort.Dispose();
        _slots.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        LogStarted(logger, _owner, Settings.MaxInFlightPerEndpoint, Settings.MaxInFlight);
        var recorder = Task.Run(RecordLoopAsync, CancellationToken.None);
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RefreshLanesAsync(stoppingToken);
                if (failing)
                {
                    LogEndpointsReloaded(logger);
                }

                failing = false;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                if (!failing)
                {
                    LogEndpointsFailed(logger, ex);
                }

                failing = true;
            }

            await ((Task)signal.WaitForEndpointsChangedAsync(Settings.EndpointRefreshInterval, stoppingToken))
                .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        foreach (var lane in _lanes.Values)
        {
            await lane.DisposeAsync();
        }

        // Sends in flight finish and are recorded, unless the host stops waiting first (their claims then run out).
        await Task.WhenAll(_sends.Values).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _records.Writer.Complete();
        await recorder.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        LogStopped(logger, _owner);
    }

    private async Task RefreshLanesAsync(CancellationToken stoppingToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DeliveriesDbContext>();
        var enabled = await db.Endpoints.AsNoTracking().Where(e => e.Enabled).ToDictionaryAsync(e => e.Id, stoppingToken);
        foreach (var (id, lane) in _lanes.Where(l => !enabled.ContainsKey(l.Key)).ToList())
        {
            _lanes.Remove(id);
            await lane.DisposeAsync();
            signal.Forget(id);
            LogLaneStopped(logger, id);
        }

        foreach (var (id, endpoint) in enabled)
        {
            var target = EndpointLane.TargetOf(endpoint);
            if (_lanes.TryGetValue(id, out var lane))
            {
                lane.Update(target);
            }
            else
            {
                _lanes[id] = new EndpointLane(this, target, stoppingToken);
                LogLaneStarted(logger, id);
            }
        }
    }

    /// <summary>Waits for at least one free send slot of this process, then takes up to <paramref name="wanted"/>.</summary>
    internal async Task<int> AcquireSlotsAsync(int wanted, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        var acquired = 1;
        while (acquired < wanted && _slots.Wait(0, CancellationToken.None))
        {
            acquired++;
        }

        return acquired;
    }

    internal void ReleaseSlots(int count)
    {
        if (count > 0)
        {
            _slots.Release(count);
        }
    }

    internal async Task<List<ClaimedDelivery>> ClaimAsync(Guid endpointId, int max, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<DeliveryStore>().ClaimAsync(endpointId, max, Settings.Lease, _owner, cancellationToken);
    }

    internal async Task<DateTime?> NextDueAsync(Guid endpointId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<DeliveryStore>().NextDueAsync(endpointId, cancellationToken);
    }

    internal void ClaimFailed(Guid endpointId, int failures, Exception exception)
    {
        // Once per streak: a database outage would otherwise log every lane's every retry.
        if (failures == 1)
        {
            LogClaimFailed(logger, endpointId, exception);
        }
    }

    /// <summary>Sends one claimed delivery as its own task; the lane's slot and a global slot are freed when the receiver has answered.</summary>
    internal void Start(EndpointLane lane, ClaimedDelivery delivery, EndpointTarget target)
    {
        var send = Task.Run(() => SendAsync(lane, delivery, target));
        _sends[delivery.Id] = send;
        _ = send.ContinueWith(_ => _sends.TryRemove(delivery.Id, out Task? _), TaskScheduler.Default);
    }

    private async Task SendAsync(EndpointLane lane, ClaimedDelivery delivery, EndpointTarget target)
    {
        var abort = _abort.Token;
        var slotHeld = true;
        void ReleaseSlot()
        {
            if (slotHeld)
            {
                slotHeld = false;
                _slots.Release();
                lane.SendFinished();
            }
        }

        try
        {
            await lane.WaitForRateAsync(abort);
            var result = await sender.SendAsync(target, delivery, abort);

            // The slot limits requests to the receiver, and this one is over: the next send need not wait for the
            // database. The delivery stays claimed until recorded, so no other send can take it meanwhile.
            ReleaseSlot();
            _records.Writer.TryWrite(new PendingRecord(delivery, Decide(delivery, result, Settings), result));
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            await ReleaseAsync(delivery);
        }
        catch (Exception ex)
        {
            // A fault here, not on the wire: recorded as a failed attempt, so the retry schedule (and in the end the
            // endpoint's disabling) applies instead of a resend each time the claim runs out.
            LogSendFailed(logger, delivery.Id, delivery.EndpointId, ex);
            ReleaseSlot();
            var result = new SendResult(DateTime.UtcNow, TimeSpan.Zero, null, null, $"Not sent: {ex.GetType().Name}: {ex.Message}", null, SendOutcomes.InternalError);
            _records.Writer.TryWrite(new PendingRecord(delivery, Decide(delivery, result, Settings), result));
        }
        finally
        {
            ReleaseSlot();
        }
    }

    /// <summary>The attempt's record and the delivery's next state, from what happened on the wire.</summary>
    public static AttemptRecord Decide(ClaimedDelivery delivery, SendResult result, DeliveriesOptions settings)
    {
        var number = delivery.Attempts + 1;
        var verdict = result.StatusCode is { } code ? RetryPolicy.Classify(code) : AttemptVerdict.Retry;
        var attempt = new DeliveryAttempt
        {
            Id = Guid.CreateVersion7(),
            DeliveryId = delivery.Id,
            EndpointId = delivery.EndpointId,
            Number = number,
            StartedAt = result.StartedAt,
            DurationMs = result.Duration.TotalMilliseconds,
            StatusCode = result.StatusCode,
            Succeeded = verdict == AttemptVerdict.Delivered,
            ResponseBody = result.ResponseBody,
            Error = Truncate(result.Error),
        };
        return verdict switch
        {
            AttemptVerdict.Delivered => new AttemptRecord(attempt, DeliveryStatuses.Delivered, null, null),
            AttemptVerdict.Gone => new AttemptRecord(attempt, DeliveryStatuses.Failed, null, "The receiver answered 410 Gone."),
            _ => RetryPolicy.NextDelay(settings.EffectiveRetrySchedule(), number - delivery.ScheduleStart, result.RetryAfter, settings.MaxRetryAfter,
                    Random.Shared.NextDouble()) is { } delay
                ? new AttemptRecord(attempt, DeliveryStatuses.Pending, DateTime.UtcNow + delay, null)
                : new AttemptRecord(attempt, DeliveryStatuses.Failed, null, null),
        };
    }

    /// <summary>Records what the sends left, a batch at a time, until the worker stops and every send has been recorded.</summary>
    private async Task RecordLoopAsync()
    {
        var reader = _records.Reader;
        var batch = new List<PendingRecord>(MaxRecordBatch);
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < MaxRecordBatch && reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            await RecordAsync(batch);
        }
    }

    private async Task RecordAsync(IReadOnlyList<PendingRecord> batch)
    {
        var abort = _abort.Token;
        // A database hiccup must not cost the attempts' records: try a few times before leaving them to their leases.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var outcome = await scope.ServiceProvider.GetRequiredService<DeliveryStore>().RecordAsync(batch, Settings.FailingPeriodBeforeDisable, abort);
                Report(batch, outcome);
                return;
            }
            catch (Exception ex) when (attempt < 4 && !abort.IsCancellationRequested)
            {
                LogRecordRetry(logger, batch.Count, attempt, ex.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(200 * attempt), abort).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            catch (Exception ex)
            {
                // Not recorded: the claims run out and the attempts are made again (at least once, same webhook-id).
                LogRecordFailed(logger, batch.Count, ex);
                return;
            }
        }
    }

    private void Report(IReadOnlyList<PendingRecord> batch, RecordOutcome outcome)
    {
        foreach (var (delivery, record, result) in batch)
        {
            DeliveriesMetrics.Duration.Observe(result.Duration.TotalSeconds);
            DeliveriesMetrics.Attempts.WithLabels(result.Outcome).Inc();
            if (outcome.Lost.Contains(delivery.Id))
            {
                LogClaimLost(logger, delivery.Id, delivery.EndpointId);
                continue;
            }

            var number = record.Attempt.Number;
            var ms = Math.Round(result.Duration.TotalMilliseconds, 1);
            switch (record.Status)
            {
                case DeliveryStatuses.Delivered:
                    DeliveriesMetrics.Deliveries.WithLabels(DeliveryStatuses.Delivered).Inc();
                    LogDelivered(logger, delivery.EventType, delivery.EventId, delivery.EndpointId, delivery.Id, number, result.StatusCode, ms);
                    break;
                case DeliveryStatuses.Pending:
                    signal.Notify(delivery.EndpointId); // its lane learns when the retry falls due
                    LogWillRetry(logger, delivery.EventType, delivery.EventId, delivery.EndpointId, delivery.Id, number, result.Error, record.NextAttemptAt);
                    break;
                default:
                    DeliveriesMetrics.Deliveries.WithLabels(DeliveryStatuses.Failed).Inc();
                    LogFailed(logger, delivery.EventType, delivery.EventId, delivery.EndpointId, delivery.Id, number, result.Error);
                    break;
            }
        }

        foreach (var disabled in outcome.Disabled)
        {
            LogEndpointDisabled(logger, disabled.EndpointId, disabled.Reason, disabled.Announcements.Count);
            signal.NotifyEndpointsChanged();
            DeliveriesMetrics.Created(disabled.Announcements);
            foreach (var announcement in disabled.Announcements)
            {
                signal.Notify(announcement.EndpointId);
            }
        }
    }

    private async Task ReleaseAsync(ClaimedDelivery delivery)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<DeliveryStore>().ReleaseAsync(delivery, CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogReleaseFailed(logger, delivery.Id, ex.Message);
        }
    }

    private static string? Truncate(string? text) =>
        text is { Length: > DeliveryAttempt.MaxErrorChars } ? text[..DeliveryAttempt.MaxErrorChars] : text;

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery worker started as {Owner}: up to {PerEndpoint} sends per endpoint, {Total} in all")]
    private static partial void LogStarted(ILogger logger, string owner, int perEndpoint, int total);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery worker {Owner} stopped")]
    private static partial void LogStopped(ILogger logger, string owner);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sending to endpoint {EndpointId}")]
    private static partial void LogLaneStarted(ILogger logger, Guid endpointId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped sending to endpoint {EndpointId} (disabled or deleted)")]
    private static partial void LogLaneStopped(ILogger logger, Guid endpointId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not load the endpoints; sending to the ones loaded before")]
    private static partial void LogEndpointsFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Endpoints are loading again")]
    private static partial void LogEndpointsReloaded(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not claim deliveries of endpoint {EndpointId}; retrying with a growing delay")]
    private static partial void LogClaimFailed(ILogger logger, Guid endpointId, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivered {EventType} {WebhookId} to endpoint {EndpointId} (delivery {DeliveryId}, attempt {Attempt}): HTTP {StatusCode} in {DurationMs} ms")]
    private static partial void LogDelivered(ILogger logger, string eventType, string webhookId, Guid endpointId, Guid deliveryId, int attempt, int? statusCode, double durationMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Attempt {Attempt} of {EventType} {WebhookId} to endpoint {EndpointId} (delivery {DeliveryId}) failed: {Error}; next attempt at {NextAttemptAt:o}")]
    private static partial void LogWillRetry(ILogger logger, string eventType, string webhookId, Guid endpointId, Guid deliveryId, int attempt, string? error, DateTime? nextAttemptAt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivery {DeliveryId} of {EventType} {WebhookId} to endpoint {EndpointId} failed after {Attempt} attempt(s): {Error}; it can be resent")]
    private static partial void LogFailed(ILogger logger, string eventType, string webhookId, Guid endpointId, Guid deliveryId, int attempt, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Endpoint {EndpointId} disabled: {Reason} (endpoint.disabled sent to {Subscribers} other endpoint(s))")]
    private static partial void LogEndpointDisabled(ILogger logger, Guid endpointId, string reason, int subscribers);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Delivery {DeliveryId} to endpoint {EndpointId} was claimed by another sender after this one's lease ran out; this attempt is not recorded")]
    private static partial void LogClaimLost(ILogger logger, Guid deliveryId, Guid endpointId);

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivery {DeliveryId} to endpoint {EndpointId} could not be sent (a fault of this process); recorded as a failed attempt")]
    private static partial void LogSendFailed(ILogger logger, Guid deliveryId, Guid endpointId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording {Count} attempt(s) failed (try {Try}): {Error}; trying again")]
    private static partial void LogRecordRetry(ILogger logger, int count, int @try, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Count} attempt(s) were made but could not be recorded; they will be made again when their claims run out")]
    private static partial void LogRecordFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release delivery {DeliveryId} at shutdown ({Error}); its claim will run out")]
    private static partial void LogReleaseFailed(ILogger logger, Guid deliveryId, string error);
}
