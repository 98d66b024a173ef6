using Microsoft.EntityFrameworkCore;
using Pipeline.Consumers.Deliveries.Events;
using Pipeline.Consumers.Deliveries.FanOut;
using Pipeline.Persistence;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Sending;

/// <summary>A delivery claimed for one attempt, with the bytes to send.</summary>
/// <param name="ScheduleStart">Attempts made before the current round of the schedule (a resend starts a new one).</param>
/// <param name="LeaseUntil">When the claim runs out and any sender may claim the delivery again.</param>
public sealed record ClaimedDelivery(
    Guid Id, Guid EndpointId, string EventId, string EventType, int Attempts, int ScheduleStart, string Payload, string ClaimToken, DateTime LeaseUntil);

/// <summary>How an attempt ends for its delivery.</summary>
/// <param name="NextAttemptAt">When it is tried again; null when it is now delivered or failed.</param>
/// <param name="DisableEndpoint">Why the endpoint is disabled by this outcome (410 Gone), else null.</param>
public sealed record AttemptRecord(DeliveryAttempt Attempt, string Status, DateTime? NextAttemptAt, string? DisableEndpoint);

/// <summary>One attempt to record, as the sender left it.</summary>
public sealed record PendingRecord(ClaimedDelivery Delivery, AttemptRecord Record, SendResult Result);

/// <summary>An endpoint disabled by the attempts just recorded, and the endpoint.disabled deliveries that announce it.</summary>
public sealed record EndpointDisabled(Guid EndpointId, string Reason, IReadOnlyList<WebhookDelivery> Announcements);

/// <summary>What recording a batch of attempts did.</summary>
/// <param name="Lost">Deliveries whose claim had been taken over by another sender: their attempts were not recorded.</param>
public sealed record RecordOutcome(IReadOnlySet<Guid> Lost, IReadOnlyList<EndpointDisabled> Disabled);

/// <summary>
/// Claims, records and releases deliveries. A claim is a conditional UPDATE that re-checks that the row is due and
/// unclaimed, so two replicas racing for a row never both get it (as in the outbox). Attempts are recorded in batches:
/// each attempt's record, its delivery's next state and the release of its claim commit in one transaction, and only
/// while the claim is still this sender's (the claim is the row's concurrency token): a sender whose lease ran out and
/// was taken over records nothing.
/// </summary>
public sealed class DeliveryStore(DeliveriesDbContext db, DeliveryFanOut fanOut)
{
    public async Task<List<ClaimedDelivery>> ClaimAsync(Guid endpointId, int max, TimeSpan lease, string owner, CancellationToken cancellationToken)
    {
        var now = DateTime.UtcNow;
        // The oldest due rows first, then a conditional UPDATE of exactly those that re-checks they are still due and
        // unclaimed (a racing replica's UPDATE waits for ours on the same rows and then finds them claimed). Three
        // statements that each use an index whatever the planner thinks of the table: one UPDATE with the subquery
        // inside was planned as a nested loop over every pending row once the statistics were stale (a fresh table
        // filling fast), tens of milliseconds a claim.
        var candidates = await Due(endpointId, now).AsNoTracking().OrderBy(d => d.NextAttemptAt).Take(max).Select(d => d.Id).ToListAsync(cancellationToken);
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
                (d, e) => new ClaimedDelivery(d.Id, d.EndpointId, d.EventId, d.EventType, d.Attempts, d.ScheduleStart, e.Payload, token, until))
            .ToListAsync(cancellationToken);
    }

    /// <summary>When the endpoint's next pending delivery falls due (its lease counted), or null when none is pending.</summary>
    public Task<DateTime?> NextDueAsync(Guid endpointId, CancellationToken cancellationToken) =>
        db.Deliveries.AsNoTracking()
            .Where(d => d.EndpointId == endpointId && d.Status == DeliveryStatuses.Pending)
            .Select(d => d.LockedUntil != null && d.LockedUntil > d.NextAttemptAt ? d.LockedUntil : d.NextAttemptAt)
            .MinAsync(cancellationToken);

    /// <summary>
    /// The attempts, their deliveries' next states and the release of their claims, in one transaction with what the
    /// outcomes mean for their endpoints: a success ends an endpoint's failing streak; a failure starts one, and one
    /// that has lasted <paramref name="failingPeriod"/> (or a 410) disables it and announces endpoint.disabled to the others.
    /// </summary>
    public async Task<RecordOutcome> RecordAsync(IReadOnlyList<PendingRecord> batch, TimeSpan failingPeriod, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        IReadOnlySet<Guid> lost;
        if (db.Database.IsNpgsql())
        {
            lost = await WriteAttemptsSetBasedAsync(batch, cancellationToken);
        }
        else
        {
            foreach (var (delivery, record, _) in batch)
            {
                Release(delivery, record);
                db.Attempts.Add(record.Attempt);
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
                lost = new HashSet<Guid>();
            }
            catch (DbUpdateConcurrencyException) when (batch.Count > 1)
            {
                // Some claim was taken over (rare: a lease ran out). Record one by one, so the others are not lost.
                await transaction.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
                var lostOne = new HashSet<Guid>();
                var disabled = new List<EndpointDisabled>();
                foreach (var item in batch)
                {
                    var single = await RecordAsync([item], failingPeriod, cancellationToken);
                    lostOne.UnionWith(single.Lost);
                    disabled.AddRange(single.Disabled);
                }

                return new RecordOutcome(lostOne, disabled);
            }
            catch (DbUpdateConcurrencyException)
            {
                await transaction.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
                return new RecordOutcome(new HashSet<Guid> { batch[0].Delivery.Id }, []);
            }
        }

        var now = DateTime.UtcNow;
        var disabledNow = new List<EndpointDisabled>();
        // In endpoint order, so that two replicas recording for the same endpoints lock their rows in the same order.
        foreach (var endpoint in batch.Where(x => !lost.Contains(x.Delivery.Id)).GroupBy(x => x.Delivery.EndpointId).OrderBy(g => g.Key))
        {
            var records = endpoint.Select(x => x.Record).ToList();
            if (await ApplyToEndpointAsync(endpoint.Key, records, failingPeriod, now, cancellationToken) is { } reason)
            {
                disabledNow.Add(new EndpointDisabled(endpoint.Key, reason, await AnnounceDisabledAsync(endpoint.Key, reason, now, cancellationToken)));
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        db.ChangeTracker.Clear();
        return new RecordOutcome(lost, disabledNow);
    }

    /// <summary>
    /// PostgreSQL: the batch's deliveries released and their attempts inserted in two statements over arrays (unnest),
    /// instead of a tracked entity and a dozen parameters per row. A delivery whose claim is no longer this sender's is
    /// not updated (the UPDATE returns the ids it did update) and its attempt is not recorded.
    /// </summary>
    /// <returns>The deliveries whose claim had been taken over.</returns>
    private async Task<IReadOnlySet<Guid>> WriteAttemptsSetBasedAsync(IReadOnlyList<PendingRecord> batch, CancellationToken cancellationToken)
    {
        var released = new HashSet<Guid>(batch.Count);
        await using (var update = PostgreSqlArrays.Command(db, ReleaseSql))
        {
            update.Parameters.Add(PostgreSqlArrays.Column(batch, x => x.Delivery.Id));
            update.Parameters.Add(PostgreSqlArrays.Column(batch, x => x.Delivery.ClaimToken));
            update.Parameters.Add(PostgreSqlArrays.Column(batch, x => x.Record.Status));
            update.Parameters.Add(PostgreSqlArrays.Column(batch, x => x.Record.Attempt.Number));
            update.Parameters.Add(PostgreSqlArrays.Column(batch, x => x.Record.NextAttemptAt));
            update.Parameters.Add(PostgreSqlArrays.Column(batch, x => x.Record.Attempt.StartedAt));
            update.Parameters.Add(PostgreSqlArrays.Column(batch, x => x.Record.Attempt.StatusCode));
            update.Parameters.Add(PostgreSqlArrays.Column(batch, x => x.Record.Attempt.Error));
            update.Parameters.Add(PostgreSqlArrays.Column(batch, x => x.Record.Status == DeliveryStatuses.Delivered ? x.Record.Attempt.StartedAt : (DateTime?)null));
            await using var reader = await update.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                released.Add(reader.GetGuid(0));
            }
        }

        var recorded = released.Count == batch.Count ? batch : batch.Where(x => released.Contains(x.Delivery.Id)).ToList();
        if (recorded.Count > 0)
        {
            await using var insert = PostgreSqlArrays.Command(db, InsertAttemptsSql);
            insert.Parameters.Add(PostgreSqlArrays.Column(recorded, x => x.Record.Attempt.Id));
            insert.Parameters.Add(PostgreSqlArrays.Column(recorded, x => x.Record.Attempt.DeliveryId));
            insert.Parameters.Add(PostgreSqlArrays.Column(recorded, x => x.Record.Attempt.EndpointId));
            insert.Parameters.Add(PostgreSqlArrays.Column(recorded, x => x.Record.Attempt.Number));
            insert.Parameters.Add(PostgreSqlArrays.Column(recorded, x => x.Record.Attempt.StartedAt));
            insert.Parameters.Add(PostgreSqlArrays.Column(recorded, x => x.Record.Attempt.DurationMs));
            insert.Parameters.Add(PostgreSqlArrays.Column(recorded, x => x.Record.Attempt.StatusCode));
            insert.Parameters.Add(PostgreSqlArrays.Column(recorded, x => x.Record.Attempt.Succeeded));
            insert.Parameters.Add(PostgreSqlArrays.Column(recorded, x => x.Record.Attempt.ResponseBody));
            insert.Parameters.Add(PostgreSqlArrays.Column(recorded, x => x.Record.Attempt.Error));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        return batch.Where(x => !released.Contains(x.Delivery.Id)).Select(x => x.Delivery.Id).ToHashSet();
    }

    private const string ReleaseSql = """
        UPDATE webhook_deliveries AS d
        SET "Status" = v.status, "Attempts" = v.attempts, "NextAttemptAt" = v.next_attempt_at, "LockedBy" = NULL, "LockedUntil" = NULL,
            "LastAttemptAt" = v.started_at, "LastStatusCode" = v.status_code, "LastError" = v.error, "DeliveredAt" = v.delivered_at
        FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9)
            AS v(id, claim, status, attempts, next_attempt_at, started_at, status_code, error, delivered_at)
        WHERE d."Id" = v.id AND d."LockedBy" = v.claim
        RETURNING d."Id"
        """;

    private const string InsertAttemptsSql = """
        INSERT INTO webhook_delivery_attempts ("Id", "DeliveryId", "EndpointId", "Number", "StartedAt", "DurationMs", "StatusCode", "Succeeded", "ResponseBody", "Error")
        SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        """;

    /// <summary>Updates the delivery through a stub whose original claim is the concurrency check.</summary>
    private void Release(ClaimedDelivery delivery, AttemptRecord record)
    {
        var attempt = record.Attempt;
        var row = new WebhookDelivery { Id = delivery.Id, EventId = delivery.EventId, EventType = delivery.EventType, Status = "", LockedBy = delivery.ClaimToken };
        db.Deliveries.Attach(row);
        row.Status = record.Status;
        row.Attempts = attempt.Number;
        row.NextAttemptAt = record.NextAttemptAt;
        row.LockedBy = null;
        row.LockedUntil = null;
        row.LastAttemptAt = attempt.StartedAt;
        row.LastStatusCode = attempt.StatusCode;
        row.LastError = attempt.Error;
        row.DeliveredAt = record.Status == DeliveryStatuses.Delivered ? attempt.StartedAt : null;
        var entry = db.Entry(row);
        foreach (var property in new[]
                 {
                     nameof(WebhookDelivery.Status), nameof(WebhookDelivery.Attempts), nameof(WebhookDelivery.NextAttemptAt),
                     nameof(WebhookDelivery.LockedBy), nameof(WebhookDelivery.LockedUntil), nameof(WebhookDelivery.LastAttemptAt),
                     nameof(WebhookDelivery.LastStatusCode), nameof(WebhookDelivery.LastError), nameof(WebhookDelivery.DeliveredAt),
                 })
        {
            entry.Property(property).IsModified = true;
        }
    }

    /// <returns>Why the endpoint is now disabled, or null.</returns>
    private async Task<string?> ApplyToEndpointAsync(
        Guid endpointId, IReadOnlyList<AttemptRecord> records, TimeSpan failingPeriod, DateTime now, CancellationToken cancellationToken)
    {
        var endpoint = db.Endpoints.Where(e => e.Id == endpointId);
        if (records.Any(r => r.DisableEndpoint is not null))
        {
            return await DisableAsync(endpoint, records.First(r => r.DisableEndpoint is not null).DisableEndpoint!, now, cancellationToken);
        }

        if (records.Any(r => r.Attempt.Succeeded))
        {
            await endpoint.Where(e => e.FailingSince != null).ExecuteUpdateAsync(s => s.SetProperty(e => e.FailingSince, (DateTime?)null), cancellationToken);
            return null;
        }

        var failingFor = $"Every attempt failed for {failingPeriod} (last: {records[^1].Attempt.Error}).";
        var disabled = await DisableAsync(endpoint.Where(e => e.FailingSince <= now - failingPeriod), failingFor, now, cancellationToken);
        if (disabled is null)
        {
            await endpoint.Where(e => e.FailingSince == null).ExecuteUpdateAsync(s => s.SetProperty(e => e.FailingSince, now), cancellationToken);
        }

        return disabled;
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
