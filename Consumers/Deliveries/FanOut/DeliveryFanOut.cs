using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pipeline.Consumers.Deliveries.Events;
using Pipeline.Consumers.Deliveries.Sending;
using Microsoft.Extensions.Options;
using Pipeline.Persistence;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.FanOut;

/// <summary>
/// Turns one public event into delivery rows: the event (its bytes, once) and one delivery per subscribed endpoint,
/// added to the caller's unit of work: pending for an enabled endpoint, skipped for a disabled one (kept, so that a
/// recover after re-enabling it delivers what it missed). Nothing is sent here; the lanes pick the rows up once they
/// are committed.
/// </summary>
public sealed class DeliveryFanOut(DeliveriesDbContext db, DeliveryHandoff handoff, IOptionsMonitor<DeliveriesOptions> options)
{
    /// <summary>The endpoints subscribed to <paramref name="eventType"/>, enabled or not.</summary>
    public async Task<List<WebhookEndpoint>> SubscribersAsync(string eventType, CancellationToken cancellationToken) =>
        [.. (await EndpointsAsync(cancellationToken)).Subscribers(eventType)];

    /// <summary>Every endpoint, enabled or not, read once for many events (a fan-out batch).</summary>
    public async Task<Endpoints> EndpointsAsync(CancellationToken cancellationToken) =>
        new(await db.Endpoints.AsNoTracking().ToListAsync(cancellationToken));

    /// <summary>Adds the event and a delivery of it to each endpoint; the caller saves (with its inbox row, if any).</summary>
    public IReadOnlyList<WebhookDelivery> Add(PublicEvent e, Guid? messageId, IReadOnlyList<WebhookEndpoint> endpoints)
    {
        var deliveries = Create(e, messageId, endpoints, out _);
        db.Deliveries.AddRange(deliveries);
        return deliveries;
    }

    /// <summary>Adds the event to the unit of work and returns its deliveries, for the caller to write (<see cref="WriteAsync"/>).</summary>
    private List<WebhookDelivery> Create(PublicEvent e, Guid? messageId, IReadOnlyList<WebhookEndpoint> endpoints, out string payload)
    {
        var now = DateTime.UtcNow;
        payload = e.Serialize();
        db.Events.Add(new WebhookEvent { Id = e.Id, EventType = e.Type, MessageId = messageId, Payload = payload, CreatedAt = now });
        var firstAttempt = now + RetryPolicy.FirstDelay(options.CurrentValue.EffectiveRetrySchedule(), Random.Shared.NextDouble());
        var deliveries = endpoints.Select(endpoint => new WebhookDelivery
        {
            Id = Guid.CreateVersion7(),
            EndpointId = endpoint.Id,
            EventId = e.Id,
            EventType = e.Type,
            Status = endpoint.Enabled ? DeliveryStatuses.Pending : DeliveryStatuses.Skipped,
            NextAttemptAt = endpoint.Enabled ? firstAttempt : null,
            CreatedAt = now,
        }).ToList();
        return deliveries;
    }

    /// <summary>
    /// As <see cref="Add(PublicEvent, Guid?, IReadOnlyList{WebhookEndpoint})"/> but the deliveries are the caller's to write
    /// (<see cref="WriteAsync"/>, once the events are saved), and the ones due now whose lane in this process has room are
    /// written already claimed by it (see <see cref="DeliveryHandoff"/>): after the commit, <see cref="Handoff.Commit"/>
    /// passes them to their lanes; without a commit, <see cref="Handoff.Cancel"/> frees the room.
    /// </summary>
    public (IReadOnlyList<WebhookDelivery> Deliveries, Handoff Handoff) AddClaimed(PublicEvent e, Guid? messageId, IReadOnlyList<WebhookEndpoint> endpoints)
    {
        var deliveries = Create(e, messageId, endpoints, out var payload);
        var now = DateTime.UtcNow;
        var token = $"{handoff.Owner}/{Guid.NewGuid():N}";
        var until = now + options.CurrentValue.Lease;
        var claimed = new List<ClaimedDelivery>();
        foreach (var delivery in deliveries)
        {
            if (delivery.Status == DeliveryStatuses.Pending && delivery.NextAttemptAt <= now && handoff.TryReserve(delivery.EndpointId))
            {
                delivery.LockedBy = token;
                delivery.LockedUntil = until;
                claimed.Add(new ClaimedDelivery(delivery.Id, delivery.EndpointId, e.Id, e.Type, 0, 0, payload, token, until));
            }
        }

        return (deliveries, new Handoff(handoff, claimed));
    }

    /// <summary>
    /// Inserts deliveries in the current transaction, after their events: on PostgreSQL in one statement over arrays,
    /// elsewhere through the unit of work.
    /// </summary>
    public async Task WriteAsync(IReadOnlyList<WebhookDelivery> deliveries, CancellationToken cancellationToken)
    {
        if (deliveries.Count == 0)
        {
            return;
        }

        if (!db.Database.IsNpgsql())
        {
            db.Deliveries.AddRange(deliveries);
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        await using var insert = PostgreSqlArrays.Command(db, InsertDeliveriesSql);
        insert.Parameters.Add(PostgreSqlArrays.Column(deliveries, d => d.Id));
        insert.Parameters.Add(PostgreSqlArrays.Column(deliveries, d => d.EndpointId));
        insert.Parameters.Add(PostgreSqlArrays.Column(deliveries, d => d.EventId));
        insert.Parameters.Add(PostgreSqlArrays.Column(deliveries, d => d.EventType));
        insert.Parameters.Add(PostgreSqlArrays.Column(deliveries, d => d.Status));
        insert.Parameters.Add(PostgreSqlArrays.Column(deliveries, d => d.Attempts));
        insert.Parameters.Add(PostgreSqlArrays.Column(deliveries, d => d.ScheduleStart));
        insert.Parameters.Add(PostgreSqlArrays.Column(deliveries, d => d.NextAttemptAt));
        insert.Parameters.Add(PostgreSqlArrays.Column(deliveries, d => d.LockedBy));
        insert.Parameters.Add(PostgreSqlArrays.Column(deliveries, d => d.LockedUntil));
        insert.Parameters.Add(PostgreSqlArrays.Column(deliveries, d => d.CreatedAt));
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    private const string InsertDeliveriesSql = """
        INSERT INTO webhook_deliveries ("Id", "EndpointId", "EventId", "EventType", "Status", "Attempts", "ScheduleStart", "NextAttemptAt", "LockedBy", "LockedUntil", "CreatedAt")
        SELECT * FROM unnest($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        """;

    /// <summary>Deliveries written claimed for this process's lanes, waiting for their fan-out to commit.</summary>
    public sealed class Handoff(DeliveryHandoff handoff, IReadOnlyList<ClaimedDelivery> claimed)
    {
        public void Commit() => handoff.Hand(claimed);

        public void Cancel() => handoff.Cancel(claimed.Select(c => c.EndpointId));
    }

    /// <summary>The endpoints as they were read, each with its subscriptions parsed once and matched once per event type.</summary>
    public sealed class Endpoints(IReadOnlyList<WebhookEndpoint> all)
    {
        private readonly (WebhookEndpoint Endpoint, IReadOnlyList<string> Subscriptions)[] _all = all.Select(e => (e, SubscriptionsOf(e))).ToArray();
        private readonly Dictionary<string, IReadOnlyList<WebhookEndpoint>> _byType = new(StringComparer.Ordinal);

        /// <summary>The endpoints subscribed to <paramref name="eventType"/>, enabled or not (not thread-safe: one batch's).</summary>
        public IReadOnlyList<WebhookEndpoint> Subscribers(string eventType)
        {
            if (!_byType.TryGetValue(eventType, out var subscribers))
            {
                subscribers = _all.Where(e => EventSubscriptions.Matches(e.Subscriptions, eventType)).Select(e => e.Endpoint).ToList();
                _byType[eventType] = subscribers;
            }

            return subscribers;
        }
    }

    public static IReadOnlyList<string> SubscriptionsOf(WebhookEndpoint endpoint) =>
        JsonSerializer.Deserialize<List<string>>(endpoint.EventTypes) ?? [];
}
