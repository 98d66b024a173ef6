using Microsoft.EntityFrameworkCore;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Ledger;

/// <summary>Counts and durations over a window, for one endpoint or all.</summary>
public sealed record WindowStats(int Total, int Delivered, int Failed, int Pending, int Skipped, double? AverageMs, double? P95Ms)
{
    /// <summary>Delivered out of all deliveries in the window, in percent (the seed's success rate).</summary>
    public double SuccessRate => Total == 0 ? 0 : Math.Round(100.0 * Delivered / Total, 2);
}

/// <summary>The queries behind the stats API, the ledger and the gauges.</summary>
public sealed class DeliveryStats(DeliveriesDbContext db)
{
    /// <summary>Enabled endpoints, and those of them whose every attempt has failed since their last success.</summary>
    public async Task<(int Active, int Failing)> EndpointCountsAsync(CancellationToken cancellationToken)
    {
        var enabled = db.Endpoints.AsNoTracking().Where(e => e.Enabled);
        return (await enabled.CountAsync(cancellationToken), await enabled.CountAsync(e => e.FailingSince != null, cancellationToken));
    }

    public async Task<List<LedgerCount>> LedgerCountsAsync(Guid? endpointId, CancellationToken cancellationToken)
    {
        var rows = db.Deliveries.AsNoTracking();
        if (endpointId is { } id)
        {
            rows = rows.Where(d => d.EndpointId == id);
        }

        var groups = await rows
            .GroupBy(d => new { d.EndpointId, d.Status, Scheduled = d.NextAttemptAt != null })
            .Select(g => new { g.Key.EndpointId, g.Key.Status, g.Key.Scheduled, Count = g.Count() })
            .ToListAsync(cancellationToken);
        return groups.Select(g => new LedgerCount(g.EndpointId, g.Status, g.Scheduled, g.Count)).ToList();
    }

    /// <summary>
    /// <see cref="WindowAsync"/> for every endpoint with deliveries or attempts since <paramref name="since"/>, in three
    /// statements whatever the number of endpoints: counts by endpoint and state, the attempts' average by endpoint,
    /// and each endpoint's 95th percentile by a window function (PostgreSQL, SQLite and SQL Server all have them).
    /// </summary>
    public async Task<Dictionary<Guid, WindowStats>> WindowsAsync(DateTime since, CancellationToken cancellationToken)
    {
        var states = await db.Deliveries.AsNoTracking().Where(d => d.CreatedAt >= since)
            .GroupBy(d => new { d.EndpointId, d.Status })
            .Select(g => new { g.Key.EndpointId, g.Key.Status, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var durations = await db.Attempts.AsNoTracking().Where(a => a.StartedAt >= since)
            .GroupBy(a => a.EndpointId)
            .Select(g => new { EndpointId = g.Key, Average = g.Average(a => a.DurationMs) })
            .ToDictionaryAsync(g => g.EndpointId, g => g.Average, cancellationToken);
        // The attempt at rank ceil(0.95 n) of its endpoint's, as WindowAsync picks it.
        var p95s = await db.Database.SqlQuery<EndpointDuration>($"""
            SELECT "EndpointId", "DurationMs" FROM (
                SELECT "EndpointId", "DurationMs",
                       ROW_NUMBER() OVER (PARTITION BY "EndpointId" ORDER BY "DurationMs") AS "Rank",
                       COUNT(*) OVER (PARTITION BY "EndpointId") AS "Count"
                FROM webhook_delivery_attempts WHERE "StartedAt" >= {since}) ranked
            WHERE "Rank" = ("Count" * 95 + 99) / 100
            """).ToDictionaryAsync(d => d.EndpointId, d => d.DurationMs, cancellationToken);

        var byEndpoint = states.ToLookup(s => s.EndpointId);
        return byEndpoint.Select(g => g.Key).Union(durations.Keys).ToDictionary(id => id, id =>
        {
            var counts = byEndpoint[id].ToDictionary(s => s.Status, s => s.Count);
            int Of(string status) => counts.GetValueOrDefault(status);
            return new WindowStats(counts.Values.Sum(), Of(DeliveryStatuses.Delivered), Of(DeliveryStatuses.Failed), Of(DeliveryStatuses.Pending),
                Of(DeliveryStatuses.Skipped), durations.TryGetValue(id, out var average) ? average : null, p95s.TryGetValue(id, out var p95) ? p95 : null);
        });
    }

    /// <summary>An endpoint with nothing in the window.</summary>
    public static readonly WindowStats EmptyWindow = new(0, 0, 0, 0, 0, null, null);

    private sealed class EndpointDuration
    {
        public Guid EndpointId { get; set; }

        public double DurationMs { get; set; }
    }

    /// <summary>Deliveries created since <paramref name="since"/> by state, and the duration of the attempts made since then, over all endpoints.</summary>
    public async Task<WindowStats> WindowAsync(DateTime since, CancellationToken cancellationToken)
    {
        var deliveries = db.Deliveries.AsNoTracking().Where(d => d.CreatedAt >= since);
        var attempts = db.Attempts.AsNoTracking().Where(a => a.StartedAt >= since);

        var states = await deliveries.GroupBy(d => d.Status).Select(g => new { Status = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Status, g => g.Count, cancellationToken);
        var count = await attempts.CountAsync(cancellationToken);
        double? average = count == 0 ? null : await attempts.AverageAsync(a => a.DurationMs, cancellationToken);
        // The 95th percentile as the attempt at that rank: portable across providers, one indexed sort.
        double? p95 = count == 0 ? null : await attempts.OrderBy(a => a.DurationMs)
            .Skip((int)Math.Ceiling(count * 0.95) - 1).Select(a => a.DurationMs).FirstAsync(cancellationToken);
        int Of(string status) => states.GetValueOrDefault(status);
        return new WindowStats(states.Values.Sum(), Of(DeliveryStatuses.Delivered), Of(DeliveryStatuses.Failed), Of(DeliveryStatuses.Pending),
            Of(DeliveryStatuses.Skipped), average, p95);
    }
}
