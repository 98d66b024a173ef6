using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pipeline.Consumers.Deliveries.Events;
using Pipeline.Consumers.Deliveries.Sending;
using Microsoft.Extensions.Options;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.FanOut;

/// <summary>
/// Turns one public event into delivery rows: the event (its bytes, once) and one delivery per subscribed endpoint,
/// added to the caller's unit of work: pending for an enabled endpoint, skipped for a disabled one (kept, so that a
/// recover after re-enabling it delivers what it missed). Nothing is sent here; the lanes pick the rows up once they
/// are committed.
/// </summary>
public sealed class DeliveryFanOut(DeliveriesDbContext db, IOptionsMonitor<DeliveriesOptions> options)
{
    /// <summary>The endpoints subscribed to <paramref name="eventType"/>, enabled or not.</summary>
    public async Task<List<WebhookEndpoint>> SubscribersAsync(string eventType, CancellationToken cancellationToken)
    {
        var all = await db.Endpoints.AsNoTracking().ToListAsync(cancellationToken);
        return all.Where(e => EventSubscriptions.Matches(SubscriptionsOf(e), eventType)).ToList();
    }

    /// <summary>Adds the event and a delivery of it to each endpoint; the caller saves (with its inbox row, if any).</summary>
    public IReadOnlyList<WebhookDelivery> Add(PublicEvent e, Guid? messageId, IReadOnlyList<WebhookEndpoint> endpoints)
    {
        var now = DateTime.UtcNow;
        db.Events.Add(new WebhookEvent { Id = e.Id, EventType = e.Type, MessageId = messageId, Payload = e.Serialize(), CreatedAt = now });
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
        db.Deliveries.AddRange(deliveries);
        return deliveries;
    }

    public static IReadOnlyList<string> SubscriptionsOf(WebhookEndpoint endpoint) =>
        JsonSerializer.Deserialize<List<string>>(endpoint.EventTypes) ?? [];
}
