using Microsoft.EntityFrameworkCore;
using Pipeline.Hosting;
using Pipeline.Ingress.Dashboard;
using Pipeline.Persistence.Ingress;

namespace Pipeline.Ingress.Admin;

/// <summary>What the dashboard reads besides the outbox and dead letters: recent receipts and the last hour's traffic.</summary>
public static class DashboardApi
{
    public const int MaxReceipts = 500;

    public static void MapDashboardApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/api/admin").RequireAdminKey();

        // Newest first; "pending" while any of the receipt's outbox rows is unsent, "published" once none is (a published
        // row is deleted, or kept marked sent with Outbox:RetainSent, so the rows left say nothing of how many there were).
        admin.MapGet("/receipts", async (int? limit, IngressDbContext db, CancellationToken ct) =>
        {
            var rows = await db.Receipts.AsNoTracking()
                .OrderByDescending(r => r.ReceivedAt).ThenByDescending(r => r.Id)
                .Take(Math.Clamp(limit ?? 50, 1, MaxReceipts))
                .Select(r => new
                {
                    r.Id, r.Provider, r.DedupKey, r.ReceivedAt,
                    Pending = db.Outbox.Count(o => o.ReceiptId == r.Id && o.SentAt == null),
                })
                .ToListAsync(ct);
            return Results.Ok(rows.Select(r => new
            {
                id = r.Id,
                provider = r.Provider,
                dedupKey = r.DedupKey,
                receivedAt = DateTime.SpecifyKind(r.ReceivedAt, DateTimeKind.Utc),
                pending = r.Pending,
                status = r.Pending > 0 ? "pending" : "published",
            }));
        });

        // Accepted: new receipts in the database (every replica's). Refused and latency: this process's rolling window.
        admin.MapGet("/stats", async (int? minutes, IngressDbContext db, WebhookTraffic webhookTraffic, CancellationToken ct) =>
        {
            var window = Math.Clamp(minutes ?? WebhookTraffic.WindowMinutes, 1, WebhookTraffic.WindowMinutes);
            var since = DateTime.UtcNow.AddMinutes(-window);
            var accepted = await db.Receipts.AsNoTracking()
                .Where(r => r.ReceivedAt >= since)
                .GroupBy(r => r.Provider)
                .Select(g => new { Provider = g.Key, Count = g.Count() })
                .ToDictionaryAsync(g => g.Provider, g => g.Count, ct);
            var traffic = webhookTraffic.Snapshot(window).ToDictionary(t => t.Provider);
            return Results.Ok(new
            {
                minutes = window,
                since = since,
                providers = accepted.Keys.Union(traffic.Keys).Order(StringComparer.Ordinal).Select(provider =>
                {
                    var seen = traffic.GetValueOrDefault(provider);
                    return new
                    {
                        provider,
                        accepted = accepted.GetValueOrDefault(provider),
                        rejected = seen?.Rejected ?? 0,
                        rejectedByStatus = seen?.RejectedByStatus ?? new Dictionary<int, long>(),
                        latencyMs = seen?.Latency,
                    };
                }),
            });
        });
    }
}
