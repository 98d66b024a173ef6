using Microsoft.EntityFrameworkCore;
using Pipeline.Consumers.Deliveries.Events;
using Pipeline.Consumers.Deliveries.FanOut;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Sending;

/// <summary>A delivery claimed for one attempt, with the bytes to send.</summary>
/// <param name="ScheduleStart">Attempts made before the current round of the schedule (a resend starts a new one).</param>
public sealed record ClaimedDelivery(
    Guid Id, Guid EndpointId, string EventId, string EventType, int Attempts, int ScheduleStart, string Payload, string ClaimToken);

/// <summary>How an attempt ends for its delivery.</summary>
/// <param name="NextAttemptAt">When it is tried again; null when it is now delivered or failed.</param>
/// <param name="DisableEndpoint">Why the endpoint is disabled by this outcome (410 Gone), else null.</param>
public sealed record AttemptRecord(DeliveryAttempt Attempt, string Status, DateTime? NextAttemptAt, string? DisableEndpoint);

/// <summary>What recording an attempt did.</summary>
/// <param name="Recorded">false when the claim had been taken over: nothing was recorded.</param>
/// <param name="DisabledReason">Why the endpoint was disabled by it, if it was.</param>
/// <param name="Announcements">The endpoint.disabled deliveries it created for other endpoints.</param>
public sealed record RecordOutcome(bool Recorded, string? DisabledReason, IReadOnlyList<WebhookDelivery> Announcements)
{
    public static readonly RecordOutcome ClaimLost = new(false, null, []);
}

/// <summary>
/// Claims, records and releases deliveries. A claim is a conditional UPDATE that re-checks that the row is due and
/// unclaimed, so two replicas racing for a row never both get it (as in the outbox). An attempt's record, the
/// delivery's next state and the release of its claim commit in one transaction, and only while the claim is still
/// this sender's: a sender whose lease ran out and was taken over records nothing.
/// </summary>
public sealed class DeliveryStore(DeliveriesDbContext db, DeliveryFanOut fanOut)
{
    public async Task<List<ClaimedDelivery>> ClaimAsync(Guid endpointId, int max, TimeSpan lease, string owner, CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        var candidates = await Due(endpointId, now)
            .OrderBy(d => d.NextAttemptAt)
            .Take(max)
            .Select(d => d.Id)
            .ToListAsync(cancellationToken);
        if (candidates.Count == 0)
        {
            return [];
        }

        var token = $"{owner}/{Guid.NewGuid():N}";
        var until = now + lease;
        var claimed = await Due(endpointId, now)
            .Where(d => candidates.Contains(d.Id))
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LockedBy, token).SetProperty(d => d.LockedUntil, until), cancellationToken);
        if (claimed == 0)
        {
            return [];
        }

        return await db.Deliveries.AsNoTracking()
            .Where(d => candidates.Contains(d.Id) && d.LockedBy == token)
            .Join(db.Events.AsNoTracking(), d => d.EventId, e => e.Id,
                (d, e) => new ClaimedDelivery(d.Id, d.EndpointId, d.EventId, d.EventType, d.Attempts, d.ScheduleStart, e.Payload, token))
            .ToListAsync(cancellationToken);
    }

    /// <summary>When the endpoint's next pending delivery falls due (its lease counted), or null when none is pending.</summary>
    public Task<DateTime?> NextDueAsync(Guid endpointId, CancellationToken cancellationToken) =>
        db.Deliveries.AsNoTracking()
            .Where(d => d.EndpointId == endpointId && d.Status == DeliveryStatuses.Pending)
            .Select(d => d.LockedUntil != null && d.LockedUntil > d.NextAttemptAt ? d.LockedUntil : d.NextAttemptAt)
            .MinAsync(cancellationToken);

    /// <summary>
    /// The attempt, the delivery's next state and the release of its claim, in one transaction with what the outcome
    /// means for the endpoint: a success ends its failing streak; a failure starts one, and one that has lasted
    /// <paramref name="failingPeriod"/> (or a 410) disables it and announces endpoint.disabled to the others.
    /// </summary>
    public async Task<RecordOutcome> RecordAsync(ClaimedDelivery delivery, AttemptRecord record, TimeSpan failingPeriod, CancellationToken cancellationToken)
    {
        var attempt = record.Attempt;
        var now = DateTime.UtcNow;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var delivered = record.Status == DeliveryStatuses.Delivered ? attempt.StartedAt : (DateTime?)null;
        var updated = await db.Deliveries
            .Where(d => d.Id == delivery.Id && d.LockedBy == delivery.ClaimToken)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, record.Status)
                .SetProperty(d => d.Attempts, attempt.Number)
                .SetProperty(d => d.NextAttemptAt, record.NextAttemptAt)
                .SetProperty(d => d.LockedBy, (string?)null)
                .SetProperty(d => d.LockedUntil, (DateTime?)null)
                .SetProperty(d => d.LastAttemptAt, attempt.StartedAt)
                .SetProperty(d => d.LastStatusCode, attempt.StatusCode)
                .SetProperty(d => d.LastError, attempt.Error)
                .SetProperty(d => d.DeliveredAt, delivered), cancellationToken);
        if (updated == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return RecordOutcome.ClaimLost;
        }

        var endpoints = db.Endpoints.Where(e => e.Id == delivery.EndpointId);
        string? disabled = null;
        if (attempt.Succeeded)
        {
            await endpoints.Where(e => e.FailingSince != null).ExecuteUpdateAsync(s => s.SetProperty(e => e.FailingSince, (DateTime?)null), cancellationToken);
        }
        else
        {
            var failingFor = $"Every attempt failed for {failingPeriod} (last: {attempt.Error}).";
            disabled = record.DisableEndpoint is { } reason
                ? await DisableAsync(endpoints, reason, now, cancellationToken)
                : await DisableAsync(endpoints.Where(e => e.FailingSince <= now - failingPeriod), failingFor, now, cancellationToken);
            if (disabled is null)
            {
                await endpoints.Where(e => e.FailingSince == null).ExecuteUpdateAsync(s => s.SetProperty(e => e.FailingSince, now), cancellationToken);
            }
        }

        IReadOnlyList<WebhookDelivery> announcements = [];
        if (disabled is not null)
        {
            announcements = await AnnounceDisabledAsync(delivery.EndpointId, disabled, now, cancellationToken);
        }

        db.Attempts.Add(attempt);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return new RecordOutcome(true, disabled, announcements);
    }

    private static async Task<string?> DisableAsync(IQueryable<WebhookEndpoint> endpoint, string reason, DateTime now, CancellationToken cancellationToken)
    {
        var trimmed = reason.Length > 500 ? reason[..500] : reason;
        var changed = await endpoint.Where(e => e.Enabled).ExecuteUpdateAsync(s => s
            .SetProperty(e => e.Enabled, false)
            .SetProperty(e => e.DisabledReason, trimmed)
            .SetProperty(e => e.DisabledAt, now)
            .SetProperty(e => e.UpdatedAt, now), cancellationToken);
        return changed > 0 ? trimmed : null;
    }

    /// <summary>endpoint.disabled for every other endpoint subscribed to it, in the transaction that disabled it.</summary>
    private async Task<IReadOnlyList<WebhookDelivery>> AnnounceDisabledAsync(Guid endpointId, string reason, DateTime now, CancellationToken cancellationToken)
    {
        var description = await db.Endpoints.AsNoTracking().Where(e => e.Id == endpointId).Select(e => e.Description).FirstOrDefaultAsync(cancellationToken);
        var subscribers = (await fanOut.SubscribersAsync(EventCatalogue.EndpointDisabled, cancellationToken)).Where(e => e.Id != endpointId).ToList();
        if (subscribers.Count == 0)
        {
            return [];
        }

        var e = new PublicEvent(PublicEvent.IdOf(Guid.CreateVersion7()), EventCatalogue.EndpointDisabled, BusEventMapper.PipelineSource,
            new DateTimeOffset(now), new EndpointDisabledData(endpointId, description, reason, new DateTimeOffset(now)));
        return fanOut.Add(e, messageId: null, subscribers);
    }

    /// <summary>Gives a claimed delivery back unattempted (the sender is stopping), so any replica may send it now.</summary>
    public Task ReleaseAsync(ClaimedDelivery delivery, CancellationToken cancellationToken) =>
        db.Deliveries.Where(d => d.Id == delivery.Id && d.LockedBy == delivery.ClaimToken)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.LockedBy, (string?)null).SetProperty(d => d.LockedUntil, (DateTime?)null), cancellationToken);

    private IQueryable<WebhookDelivery> Due(Guid endpointId, DateTime now) =>
        db.Deliveries.Where(d => d.EndpointId == endpointId
            && d.Status == DeliveryStatuses.Pending
            && d.NextAttemptAt <= now
            && (d.LockedUntil == null || d.LockedUntil < now));
}
