using Microsoft.EntityFrameworkCore;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Ledger;

/// <param name="Recovered">Deliveries put back to pending by this call.</param>
/// <param name="Remaining">Failed or skipped deliveries in the range still left (call again to go on).</param>
/// <param name="LastDueAt">When the last of them is due: the rate spreads them out.</param>
public sealed record RecoverResult(int Recovered, int Remaining, DateTime? FirstDueAt, DateTime? LastDueAt)
{
    public bool Done => Remaining == 0;
}

/// <summary>
/// Resend and recover: a failed (or skipped, or delivered) delivery goes back to pending under its own id, so the
/// receiver sees the same webhook-id again, and starts a new round of the retry schedule.
/// </summary>
public sealed class DeliveryRecovery(DeliveriesDbContext db)
{
    public const int PageSize = 500;
    public const int MaxPerCall = 100_000;

    /// <returns>null when there is no such delivery; else whether it was put back (false: it is pending already).</returns>
    public async Task<bool?> ResendAsync(Guid deliveryId, CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        var changed = await db.Deliveries
            .Where(d => d.Id == deliveryId && d.Status != DeliveryStatuses.Pending)
            .ExecuteUpdateAsync(s => s
                .SetProperty(d => d.Status, DeliveryStatuses.Pending)
                .SetProperty(d => d.NextAttemptAt, now)
                .SetProperty(d => d.ScheduleStart, d => d.Attempts)
                .SetProperty(d => d.LockedBy, (string?)null)
                .SetProperty(d => d.LockedUntil, (DateTime?)null), cancellationToken);
        if (changed > 0)
        {
            return true;
        }

        return await db.Deliveries.AnyAsync(d => d.Id == deliveryId, cancellationToken) ? false : null;
    }

    /// <summary>
    /// Puts the endpoint's failed and skipped deliveries created in [<paramref name="since"/>, <paramref name="until"/>)
    /// back to pending, oldest first, a page at a time, due at <paramref name="ratePerSecond"/> from now on. Each page
    /// leaves the failed/skipped set as it is updated, so a call that stops (at <paramref name="limit"/> or a crash) is
    /// resumed by calling again with the same range: nothing is done twice and nothing is missed.
    /// </summary>
    public async Task<RecoverResult> RecoverAsync(
        Guid endpointId, DateTime since, DateTime? until, int ratePerSecond, int limit, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var recovered = 0;
        DateTime? first = null, last = null;
        while (recovered < limit)
        {
            var page = await Recoverable(endpointId, since, until, started)
                .OrderBy(d => d.CreatedAt)
                .Take(Math.Min(PageSize, limit - recovered))
                .Select(d => d.Id)
                .ToListAsync(cancellationToken);
            if (page.Count == 0)
            {
                break;
            }

            var due = started + TimeSpan.FromSeconds((double)recovered / ratePerSecond);
            recovered += await Recoverable(endpointId, since, until, started)
                .Where(d => page.Contains(d.Id))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.Status, DeliveryStatuses.Pending)
                    .SetProperty(d => d.NextAttemptAt, due)
                    .SetProperty(d => d.ScheduleStart, d => d.Attempts)
                    .SetProperty(d => d.LockedBy, (string?)null)
                    .SetProperty(d => d.LockedUntil, (DateTime?)null), cancellationToken);
            first ??= due;
            last = due;
        }

        var remaining = await Recoverable(endpointId, since, until, started).CountAsync(cancellationToken);
        return new RecoverResult(recovered, remaining, first, last);
    }

    // A delivery that failed again after this recover started is not taken a second time by the same call.
    private IQueryable<WebhookDelivery> Recoverable(Guid endpointId, DateTime since, DateTime? until, DateTime started) =>
        db.Deliveries.Where(d => d.EndpointId == endpointId
            && d.CreatedAt >= since
            && (until == null || d.CreatedAt < until)
            && (d.Status == DeliveryStatuses.Skipped
                || (d.Status == DeliveryStatuses.Failed && (d.LastAttemptAt == null || d.LastAttemptAt < started))));
}
