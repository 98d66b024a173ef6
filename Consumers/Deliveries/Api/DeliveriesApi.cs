using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Consumers.Deliveries.Ledger;
using Pipeline.Consumers.Deliveries.Sending;
using Pipeline.Hosting;
using Pipeline.Hosting.Access;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Api;

/// <summary>
/// Deliveries: an endpoint's deliveries and one delivery with every attempt (read key or admin key); resend one, recover
/// every failed or skipped delivery of an endpoint since a time (admin key).
/// </summary>
public static partial class DeliveriesApi
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1000;

    public static void MapDeliveriesApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/endpoints/{id:guid}/deliveries", ListAsync).RequireReadKey();
        routes.MapPost("/api/endpoints/{id:guid}/recover", RecoverAsync).RequireAdminKey();
        routes.MapGet("/api/deliveries/{id:guid}", ShowAsync).RequireReadKey();
        routes.MapPost("/api/deliveries/{id:guid}/resend", ResendAsync).RequireAdminKey();
    }

    private static async Task<IResult> ListAsync(
        Guid id, string? status, int? limit, DateTime? before, DeliveriesDbContext db, CancellationToken ct)
    {
        if (status is not null && !DeliveryStatuses.All.Contains(status))
        {
            return BadRequest("bad_status", $"status must be one of {string.Join(", ", DeliveryStatuses.All)}.");
        }

        if (!await db.Endpoints.AnyAsync(e => e.Id == id, ct))
        {
            return EndpointNotFound(id);
        }

        var query = db.Deliveries.AsNoTracking().Where(d => d.EndpointId == id);
        if (status is not null)
        {
            query = query.Where(d => d.Status == status);
        }

        if (before is { } b)
        {
            var utc = b.ToUniversalTime();
            query = query.Where(d => d.CreatedAt < utc);
        }

        var take = Math.Clamp(limit ?? DefaultLimit, 1, MaxLimit);
        var rows = await query.OrderByDescending(d => d.CreatedAt).Take(take + 1).ToListAsync(ct);
        var page = rows.Take(take).Select(DeliveryView.From).ToList();
        return Results.Ok(new { endpointId = id, deliveries = page, nextBefore = rows.Count > take ? page[^1].CreatedAt : (DateTime?)null });
    }

    private static async Task<IResult> ShowAsync(Guid id, DeliveriesDbContext db, CancellationToken ct)
    {
        var delivery = await db.Deliveries.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, ct);
        if (delivery is null)
        {
            return Results.NotFound(new { error = "not_found", message = $"No delivery {id}." });
        }

        var payload = await db.Events.AsNoTracking().Where(e => e.Id == delivery.EventId).Select(e => e.Payload).FirstOrDefaultAsync(ct);
        var attempts = await db.Attempts.AsNoTracking().Where(a => a.DeliveryId == id).OrderBy(a => a.Number).ToListAsync(ct);
        return Results.Ok(DeliveryView.From(delivery) with
        {
            Event = payload is null ? null : JsonDocument.Parse(payload).RootElement,
            AttemptLog = attempts.Select(AttemptView.From).ToList(),
        });
    }

    private static async Task<IResult> ResendAsync(
        Guid id, DeliveriesDbContext db, DeliveryRecovery recovery, DeliverySignal signal, ILoggerFactory loggers, CancellationToken ct)
    {
        var endpointId = await db.Deliveries.AsNoTracking().Where(d => d.Id == id).Select(d => (Guid?)d.EndpointId).FirstOrDefaultAsync(ct);
        if (endpointId is null)
        {
            return Results.NotFound(new { error = "not_found", message = $"No delivery {id}." });
        }

        if (await DisabledAsync(db, endpointId.Value, ct) is { } refusal)
        {
            return refusal;
        }

        if (await recovery.ResendAsync(id, ct) is not true)
        {
            return Results.Conflict(new { error = "already_pending", message = $"Delivery {id} is pending already: it will be attempted as scheduled." });
        }

        DeliveriesMetrics.Deliveries.WithLabels(DeliveryStatuses.Pending).Inc();
        signal.Notify(endpointId.Value);
        LogResent(Logger(loggers), id, endpointId.Value);
        return Results.Accepted($"/api/deliveries/{id}", new { deliveryId = id, endpointId, status = DeliveryStatuses.Pending });
    }

    private static async Task<IResult> RecoverAsync(
        Guid id, DateTime? since, DateTime? until, int? rate, int? limit, DeliveriesDbContext db, DeliveryRecovery recovery, DeliverySignal signal,
        IOptionsMonitor<DeliveriesOptions> options, ILoggerFactory loggers, CancellationToken ct)
    {
        if (since is null)
        {
            return BadRequest("since_required", "since is required: recover failed and skipped deliveries created at or after it (ISO 8601, e.g. 2026-12-01T00:00:00Z).");
        }

        if (rate is < 1 or > 100_000 || limit is < 1 or > DeliveryRecovery.MaxPerCall)
        {
            return BadRequest("bad_range", $"rate must be 1..100000 a second and limit 1..{DeliveryRecovery.MaxPerCall}.");
        }

        var endpoint = await db.Endpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null)
        {
            return EndpointNotFound(id);
        }

        if (await DisabledAsync(db, id, ct) is { } refusal)
        {
            return refusal;
        }

        var perSecond = rate ?? endpoint.RateLimitPerSecond ?? options.CurrentValue.RecoverRatePerSecond;
        var result = await recovery.RecoverAsync(id, since.Value.ToUniversalTime(), until?.ToUniversalTime(), perSecond, limit ?? DeliveryRecovery.MaxPerCall, ct);
        if (result.Recovered > 0)
        {
            DeliveriesMetrics.Deliveries.WithLabels(DeliveryStatuses.Pending).Inc(result.Recovered);
            signal.Notify(id);
        }

        LogRecovered(Logger(loggers), id, result.Recovered, since.Value, result.Remaining);
        return Results.Ok(new { endpointId = id, result.Recovered, result.Remaining, result.Done, result.FirstDueAt, result.LastDueAt, ratePerSecond = perSecond });
    }

    private static async Task<IResult?> DisabledAsync(DeliveriesDbContext db, Guid endpointId, CancellationToken ct) =>
        await db.Endpoints.AsNoTracking().AnyAsync(e => e.Id == endpointId && !e.Enabled, ct)
            ? Results.Conflict(new { error = "endpoint_disabled", message = $"Endpoint {endpointId} is disabled: enable it first, then resend or recover." })
            : null;

    private static IResult EndpointNotFound(Guid id) => Results.NotFound(new { error = "not_found", message = $"No endpoint {id}." });

    private static IResult BadRequest(string error, string message) => Results.BadRequest(new { error, message });

    private static ILogger Logger(ILoggerFactory loggers) => loggers.CreateLogger("Pipeline.Deliveries.Recovery");

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId} to endpoint {EndpointId} resent by an operator")]
    private static partial void LogResent(ILogger logger, Guid deliveryId, Guid endpointId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Endpoint {EndpointId}: {Recovered} failed or skipped deliveries since {Since:o} put back to pending; {Remaining} left")]
    private static partial void LogRecovered(ILogger logger, Guid endpointId, int recovered, DateTime since, int remaining);
}

/// <summary>A delivery as the API shows it; <see cref="Event"/> and <see cref="AttemptLog"/> only when one delivery is asked for.</summary>
public sealed record DeliveryView(
    Guid Id,
    Guid EndpointId,
    string EventId,
    string EventType,
    string Status,
    int Attempts,
    DateTime? NextAttemptAt,
    DateTime CreatedAt,
    DateTime? LastAttemptAt,
    DateTime? DeliveredAt,
    int? LastStatusCode,
    string? LastError)
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public JsonElement? Event { get; init; }

    [System.Text.Json.Serialization.JsonPropertyName("attemptLog")]
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<AttemptView>? AttemptLog { get; init; }

    public static DeliveryView From(WebhookDelivery d) => new(
        d.Id, d.EndpointId, d.EventId, d.EventType, d.Status, d.Attempts, d.NextAttemptAt, d.CreatedAt, d.LastAttemptAt, d.DeliveredAt,
        d.LastStatusCode, d.LastError);
}

public sealed record AttemptView(int Number, DateTime StartedAt, double DurationMs, int? StatusCode, bool Succeeded, string? ResponseBody, string? Error)
{
    public static AttemptView From(DeliveryAttempt a) =>
        new(a.Number, a.StartedAt, Math.Round(a.DurationMs, 1), a.StatusCode, a.Succeeded, a.ResponseBody, a.Error);
}
