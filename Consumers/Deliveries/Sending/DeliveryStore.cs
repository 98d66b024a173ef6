using Microsoft.EntityFrameworkCore;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Sending;

/// <summary>A delivery claimed for one attempt, with the bytes to send.</summary>
public sealed record ClaimedDelivery(Guid Id, Guid EndpointId, string EventId, string EventType, int Attempts, string Payload, string ClaimToken);

/// <summary>How an attempt ends for its delivery.</summary>
/// <param name="NextAttemptAt">When it is tried again; null when it is now delivered or failed.</param>
/// <param name="DisableEndpoint">Why the endpoint is disabled by this outcome (410 Gone), else null.</param>
public sealed record AttemptRecord(DeliveryAttempt Attempt, string Status, DateTime? NextAttemptAt, string? DisableEndpoint);

/// <summary>
/// Claims, records and releases deliveries. A claim is a conditional UPDATE that re-checks that the row is due and
/// unclaimed, so two replicas racing for a row never both get it (as in the outbox). An attempt's record, the
/// delivery's next state and the release of its claim commit in one transaction, and only while the claim is still
/// this sender's: a sender whose lease ran out and was taken over records nothing.
/// </summary>
public sealed class DeliveryStore(DeliveriesDbContext db)
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
                (d, e) => new ClaimedDelivery(d.Id, d.EndpointId, d.EventId, d.EventType, d.Attempts, e.Payload, token))
            .ToListAsync(cancellationToken);
    }

    /// <summary>When the endpoint's next pending delivery falls due (its lease counted), or null when none is pending.</summary>
    public Task<DateTime?> NextDueAsync(Guid endpointId, CancellationToken cancellationToken) =>
        db.Deliveries.AsNoTracking()
            .Where(d => d.EndpointId == endpointId && d.Status == DeliveryStatuses.Pending)
            .Select(d => d.LockedUntil != null && d.LockedUntil > d.NextAttemptAt ? d.LockedUntil : d.NextAttemptAt)
            .MinAsync(cancellationToken);

    /// <returns>false when the claim had been taken over: nothing was recorded.</returns>
    public async Task<bool> RecordAsync(ClaimedDelivery delivery, AttemptRecord record, CancellationToken cancellationToken)
    {
        var attempt = record.Attempt;
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
            return false;
        }

        if (record.DisableEndpoint is { } reason)
        {
            var now = DateTime.UtcNow;
            await db.Endpoints.Where(e => e.Id == delivery.EndpointId && e.Enabled)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(e => e.Enabled, false)
                    .SetProperty(e => e.DisabledReason, reason)
                    .SetProperty(e => e.DisabledAt, now)
                    .SetProperty(e => e.UpdatedAt, now), cancellationToken);
        }

        db.Attempts.Add(attempt);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return true;
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
