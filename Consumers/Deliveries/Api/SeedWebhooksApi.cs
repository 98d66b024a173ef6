using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Consumers.Deliveries.FanOut;
using Pipeline.Consumers.Deliveries.Ledger;
using Pipeline.Consumers.Deliveries.Sending;
using Pipeline.Hosting;
using Pipeline.Hosting.Access;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Api;

/// <summary>
/// Seed 004's monitoring and troubleshooting paths, with its snake_case field names: GET /api/webhooks/endpoints,
/// /deliveries?limit=, /stats?hours= (read key or admin key); POST /api/webhooks/{id}/test and GET /api/webhooks/{id}/diagnose,
/// which send to the endpoint (admin key).
/// </summary>
public static class SeedWebhooksApi
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static void MapSeedWebhooksApi(this IEndpointRouteBuilder routes)
    {
        var read = routes.MapGroup("/api/webhooks").RequireReadKey();
        var admin = routes.MapGroup("/api/webhooks").RequireAdminKey();
        read.MapGet("/endpoints", EndpointsAsync);
        read.MapGet("/deliveries", DeliveriesAsync);
        read.MapGet("/stats", StatsAsync);
        admin.MapPost("/{id:guid}/test", TestAsync);
        admin.MapGet("/{id:guid}/diagnose", DiagnoseAsync);
    }

    private static async Task<IResult> EndpointsAsync(DeliveriesDbContext db, DeliveryStats stats, CancellationToken ct)
    {
        var windows = await stats.WindowsAsync(DateTime.UtcNow.AddHours(-24), ct);
        var result = new List<SeedEndpointView>();
        foreach (var e in await db.Endpoints.AsNoTracking().OrderBy(e => e.CreatedAt).ToListAsync(ct))
        {
            var window = windows.GetValueOrDefault(e.Id, DeliveryStats.EmptyWindow);
            result.Add(new SeedEndpointView(e.Id, e.Description, e.Url, DeliveryFanOut.SubscriptionsOf(e), e.Enabled, e.DisabledReason,
                window.Total, window.Delivered, window.SuccessRate));
        }

        return Results.Json(result, Json);
    }

    /// <summary>The seed's endpoint row (its names have the 24h suffix apart, which snake_case would not do).</summary>
    private sealed record SeedEndpointView(
        Guid Id,
        string? Name,
        string Url,
        IReadOnlyList<string> EventTypes,
        bool IsActive,
        string? DisabledReason,
        [property: JsonPropertyName("total_deliveries_24h")] int TotalDeliveries24h,
        [property: JsonPropertyName("successful_deliveries_24h")] int SuccessfulDeliveries24h,
        [property: JsonPropertyName("success_rate_24h")] double SuccessRate24h);

    private static async Task<IResult> DeliveriesAsync(int? limit, DeliveriesDbContext db, CancellationToken ct)
    {
        var take = Math.Clamp(limit ?? DeliveriesApi.DefaultLimit, 1, DeliveriesApi.MaxLimit);
        var rows = await db.Deliveries.AsNoTracking().OrderByDescending(d => d.CreatedAt).Take(take)
            .GroupJoin(db.Endpoints.AsNoTracking(), d => d.EndpointId, e => e.Id, (d, e) => new { d, e })
            .SelectMany(x => x.e.DefaultIfEmpty(), (x, e) => new { x.d, Name = e == null ? null : e.Description })
            .ToListAsync(ct);
        var durations = await LastDurationsAsync(db, rows.Select(r => r.d.Id).ToList(), ct);
        return Results.Json(rows.OrderByDescending(r => r.d.CreatedAt).Select(r => new
        {
            r.d.Id,
            r.d.EndpointId,
            EndpointName = r.Name ?? "Unknown",
            r.d.EventType,
            r.d.EventId,
            r.d.Status,
            AttemptCount = r.d.Attempts,
            ResponseStatus = r.d.LastStatusCode,
            ResponseTime = durations.TryGetValue(r.d.Id, out var ms) ? Math.Round(ms / 1000, 3) : (double?)null,
            r.d.CreatedAt,
            r.d.NextAttemptAt,
            ErrorMessage = r.d.LastError,
        }), Json);
    }

    private static async Task<IResult> StatsAsync(int? hours, DeliveriesDbContext db, DeliveryStats stats, CancellationToken ct)
    {
        var period = Math.Clamp(hours ?? 24, 1, 24 * 366);
        var since = DateTime.UtcNow.AddHours(-period);
        var all = await stats.WindowAsync(since, ct);
        var windows = await stats.WindowsAsync(since, ct);
        var ledgers = DeliveryLedger.PerEndpoint(await stats.LedgerCountsAsync(null, ct));
        var endpoints = new List<object>();
        foreach (var e in await db.Endpoints.AsNoTracking().OrderBy(e => e.CreatedAt).ToListAsync(ct))
        {
            var window = windows.GetValueOrDefault(e.Id, DeliveryStats.EmptyWindow);
            var ledger = ledgers.GetValueOrDefault(e.Id, DeliveryLedger.Empty);
            endpoints.Add(new
            {
                e.Id,
                Name = e.Description,
                e.Url,
                IsActive = e.Enabled,
                e.FailingSince,
                TotalDeliveries = window.Total,
                SuccessfulDeliveries = window.Delivered,
                FailedDeliveries = window.Failed,
                PendingDeliveries = window.Pending,
                SkippedDeliveries = window.Skipped,
                window.SuccessRate,
                AvgResponseTime = Seconds(window.AverageMs),
                P95ResponseTime = Seconds(window.P95Ms),
                Ledger = LedgerView(ledger),
            });
        }

        return Results.Json(new
        {
            PeriodHours = period,
            TotalDeliveries = all.Total,
            SuccessfulDeliveries = all.Delivered,
            FailedDeliveries = all.Failed,
            PendingDeliveries = all.Pending,
            SkippedDeliveries = all.Skipped,
            all.SuccessRate,
            AvgResponseTime = Seconds(all.AverageMs),
            P95ResponseTime = Seconds(all.P95Ms),
            Ledger = LedgerView(DeliveryLedger.Sum(ledgers.Values)),
            Endpoints = endpoints,
        }, Json);
    }

    /// <summary>The seed's synchronous test: queued through the real delivery path, answered once its first attempt is recorded.</summary>
    private static async Task<IResult> TestAsync(
        Guid id, DeliveriesDbContext db, DeliveryFanOut fanOut, DeliverySignal signal, IOptionsMonitor<DeliveriesOptions> options,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var queued = await EndpointsApi.QueueTestAsync(id, db, fanOut, signal, loggers, ct);
        if (queued.Refusal is { } refusal)
        {
            return refusal;
        }

        var (e, deliveryId) = queued.Test!.Value;
        var deadline = DateTime.UtcNow + options.CurrentValue.Timeout + TimeSpan.FromSeconds(10);
        DeliveryAttempt? attempt = null;
        while (attempt is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100, ct);
            attempt = await db.Attempts.AsNoTracking().Where(a => a.DeliveryId == deliveryId).OrderBy(a => a.Number).FirstOrDefaultAsync(ct);
        }

        var testEvent = JsonDocument.Parse(e.Serialize()).RootElement;
        return Results.Json(attempt is null
            ? new { Success = false, StatusCode = (int?)null, ResponseTime = (double?)null, ResponseBody = (string?)null,
                Error = (string?)"No attempt was recorded in time; the delivery is still pending.", TestEvent = testEvent, DeliveryId = deliveryId }
            : new { Success = attempt.Succeeded, attempt.StatusCode, ResponseTime = Seconds(attempt.DurationMs), attempt.ResponseBody, attempt.Error,
                TestEvent = testEvent, DeliveryId = deliveryId }, Json);
    }

    private static async Task<IResult> DiagnoseAsync(Guid id, DeliveriesDbContext db, DeliverySender sender, CancellationToken ct)
    {
        var endpoint = await db.Endpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null)
        {
            return Results.NotFound(new { error = "not_found", message = $"No endpoint {id}." });
        }

        var recent = await db.Deliveries.AsNoTracking().Where(d => d.EndpointId == id).OrderByDescending(d => d.CreatedAt).Take(10).ToListAsync(ct);
        var durations = await LastDurationsAsync(db, recent.Select(d => d.Id).ToList(), ct);
        var probe = await sender.ProbeAsync(new Uri(endpoint.Url), ct);
        var diagnosis = EndpointDiagnosis.Of(endpoint.Enabled, endpoint.DisabledReason, probe.StatusCode, probe.Error,
            recent.Count(d => d.Status == DeliveryStatuses.Failed), recent.Count, durations.Count == 0 ? null : durations.Values.Average() / 1000);
        return Results.Json(new
        {
            EndpointId = id,
            EndpointName = endpoint.Description,
            IsActive = endpoint.Enabled,
            endpoint.DisabledReason,
            diagnosis.Issues,
            diagnosis.Recommendations,
            RecentDeliveryCount = recent.Count,
            FailedDeliveryCount = recent.Count(d => d.Status == DeliveryStatuses.Failed),
            AvgResponseTime = durations.Count == 0 ? 0 : Math.Round(durations.Values.Average() / 1000, 2),
            Reachability = new { probe.StatusCode, probe.Error, ResponseTime = Seconds(probe.Duration.TotalMilliseconds) },
        }, Json);
    }

    private static async Task<Dictionary<Guid, double>> LastDurationsAsync(DeliveriesDbContext db, List<Guid> deliveryIds, CancellationToken ct) =>
        (await db.Attempts.AsNoTracking().Where(a => deliveryIds.Contains(a.DeliveryId))
            .Select(a => new { a.DeliveryId, a.Number, a.DurationMs }).ToListAsync(ct))
        .GroupBy(a => a.DeliveryId).ToDictionary(g => g.Key, g => g.MaxBy(a => a.Number)!.DurationMs);

    private static object LedgerView(DeliveryLedger l) => new { l.Matched, l.Delivered, l.Pending, l.Failed, l.Skipped, l.Balanced };

    private static double? Seconds(double? ms) => ms is { } v ? Math.Round(v / 1000, 3) : null;
}
