using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Consumers.Deliveries.Events;
using Pipeline.Consumers.Deliveries.FanOut;
using Pipeline.Consumers.Deliveries.Security;
using Pipeline.Consumers.Deliveries.Sending;
using Pipeline.Consumers.Deliveries.Signing;
using Pipeline.Hosting;
using Pipeline.Hosting.Access;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Api;

/// <summary>
/// The endpoints API: list and show with a read key (or the admin key); register, change, delete, enable, disable,
/// rotate the secret and send a test event with the admin key. A secret is returned only by create and rotate-secret.
/// </summary>
public static partial class EndpointsApi
{
    public const string TestMessage = "Test event from Pipeline: if you can read this, the endpoint works.";

    public static void MapEndpointsApi(this IEndpointRouteBuilder routes)
    {
        // Reading shows where events go (never a secret or a header value); anything that changes it needs the admin key.
        var read = routes.MapGroup("/api/endpoints").RequireReadKey();
        var admin = routes.MapGroup("/api/endpoints").RequireAdminKey();

        admin.MapPost("/", CreateAsync);
        read.MapGet("/", async (DeliveriesDbContext db, CancellationToken ct) =>
            Results.Ok((await db.Endpoints.AsNoTracking().OrderBy(e => e.CreatedAt).ToListAsync(ct)).Select(EndpointView.From)));
        read.MapGet("/{id:guid}", async (Guid id, DeliveriesDbContext db, CancellationToken ct) =>
            await db.Endpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, ct) is { } endpoint
                ? Results.Ok(EndpointView.From(endpoint))
                : NotFound(id));
        admin.MapPatch("/{id:guid}", PatchAsync);
        admin.MapDelete("/{id:guid}", DeleteAsync);
        admin.MapPost("/{id:guid}/enable", (Guid id, DeliveriesDbContext db, DeliverySignal signal, ILoggerFactory loggers, CancellationToken ct) =>
            SetEnabledAsync(id, true, db, signal, loggers, ct));
        admin.MapPost("/{id:guid}/disable", (Guid id, DeliveriesDbContext db, DeliverySignal signal, ILoggerFactory loggers, CancellationToken ct) =>
            SetEnabledAsync(id, false, db, signal, loggers, ct));
        admin.MapPost("/{id:guid}/rotate-secret", RotateSecretAsync);
        admin.MapPost("/{id:guid}/test", SendTestAsync);
    }

    private static async Task<IResult> CreateAsync(
        HttpRequest request, DeliveriesDbContext db, IOptionsMonitor<DeliveriesOptions> options, DeliverySignal signal,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var body = await ReadAsync<CreateEndpointRequest>(request, ct);
        if (body is null)
        {
            return Invalid(["The body must be JSON like {\"url\":\"https://…\",\"eventTypes\":[\"sandbox.*\"]}."]);
        }

        var settings = options.CurrentValue;
        var errors = EndpointRequests.Validate(body, settings.AllowHttp, out var url);
        if (errors.Count == 0 && await EndpointUrlPolicy.CheckAddressesAsync(url!, settings.AllowPrivateNetworks, ResolveAsync, ct) is { } refused)
        {
            errors.Add(refused);
        }

        if (errors.Count > 0)
        {
            LogRefused(Logger(loggers), string.Join(" ", errors));
            return Invalid(errors);
        }

        if (await db.Endpoints.CountAsync(ct) >= settings.MaxEndpoints)
        {
            var message = $"There are {settings.MaxEndpoints} endpoints already, the most {DeliveriesOptions.Section}:{nameof(DeliveriesOptions.MaxEndpoints)} allows; delete one first.";
            LogRefused(Logger(loggers), message);
            return Results.Json(new { error = "too_many_endpoints", message }, statusCode: StatusCodes.Status409Conflict);
        }

        var now = DateTime.UtcNow;
        var endpoint = new WebhookEndpoint
        {
            Id = Guid.CreateVersion7(),
            Url = url!.AbsoluteUri,
            Description = body.Description,
            EventTypes = EndpointRequests.Serialize(body.EventTypes!),
            Headers = EndpointRequests.Serialize(body.Headers),
            Scheme = body.Scheme ?? SigningSchemes.StandardWebhooks,
            RateLimitPerSecond = body.RateLimitPerSecond,
            Enabled = true,
            Secret = WebhookSigner.NewSecret(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Endpoints.Add(endpoint);
        await db.SaveChangesAsync(ct);
        signal.NotifyEndpointsChanged();
        LogCreated(Logger(loggers), endpoint.Id, endpoint.Url, endpoint.EventTypes, endpoint.Scheme);
        return Results.Created($"/api/endpoints/{endpoint.Id}", EndpointView.From(endpoint) with { Secret = endpoint.Secret });
    }

    private static async Task<IResult> PatchAsync(
        Guid id, HttpRequest request, DeliveriesDbContext db, IOptionsMonitor<DeliveriesOptions> options, DeliverySignal signal,
        ILoggerFactory loggers, CancellationToken ct)
    {
        var body = await ReadAsync<PatchEndpointRequest>(request, ct);
        if (body is null)
        {
            return Invalid(["The body must be a JSON object with the fields to change."]);
        }

        var endpoint = await db.Endpoints.FirstOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null)
        {
            return NotFound(id);
        }

        var settings = options.CurrentValue;
        var errors = EndpointRequests.Validate(body, settings.AllowHttp, out var url);
        if (errors.Count == 0 && url is not null && await EndpointUrlPolicy.CheckAddressesAsync(url, settings.AllowPrivateNetworks, ResolveAsync, ct) is { } refused)
        {
            errors.Add(refused);
        }

        if (errors.Count > 0)
        {
            LogRefused(Logger(loggers), string.Join(" ", errors));
            return Invalid(errors);
        }

        endpoint.Url = url?.AbsoluteUri ?? endpoint.Url;
        endpoint.EventTypes = body.EventTypes is { } types ? EndpointRequests.Serialize(types) : endpoint.EventTypes;
        endpoint.Description = body.Description ?? endpoint.Description;
        endpoint.Headers = body.Headers is { } headers ? EndpointRequests.Serialize(headers) : endpoint.Headers;
        endpoint.Scheme = body.Scheme ?? endpoint.Scheme;
        endpoint.RateLimitPerSecond = body.RateLimitPerSecond is { } rate ? (rate == 0 ? null : rate) : endpoint.RateLimitPerSecond;
        endpoint.UpdatedAt = DateTime.UtcNow;
        await db.SaveChangesAsync(ct);
        signal.NotifyEndpointsChanged();
        LogChanged(Logger(loggers), endpoint.Id, endpoint.Url, endpoint.EventTypes, endpoint.Scheme);
        return Results.Ok(EndpointView.From(endpoint));
    }

    private static async Task<IResult> DeleteAsync(Guid id, DeliveriesDbContext db, DeliverySignal signal, ILoggerFactory loggers, CancellationToken ct)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        await db.Attempts.Where(a => a.EndpointId == id).ExecuteDeleteAsync(ct);
        var deliveries = await db.Deliveries.Where(d => d.EndpointId == id).ExecuteDeleteAsync(ct);
        var deleted = await db.Endpoints.Where(e => e.Id == id).ExecuteDeleteAsync(ct);
        if (deleted == 0)
        {
            await transaction.RollbackAsync(ct);
            return NotFound(id);
        }

        await transaction.CommitAsync(ct);
        signal.NotifyEndpointsChanged();
        LogDeleted(Logger(loggers), id, deliveries);
        return Results.NoContent();
    }

    private static async Task<IResult> SetEnabledAsync(
        Guid id, bool enabled, DeliveriesDbContext db, DeliverySignal signal, ILoggerFactory loggers, CancellationToken ct)
    {
        var endpoint = await db.Endpoints.FirstOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null)
        {
            return NotFound(id);
        }

        var now = DateTime.UtcNow;
        if (endpoint.Enabled != enabled)
        {
            endpoint.Enabled = enabled;
            endpoint.DisabledReason = enabled ? null : "Disabled by an operator.";
            endpoint.DisabledAt = enabled ? null : now;
            endpoint.FailingSince = null;
            endpoint.UpdatedAt = now;
            await db.SaveChangesAsync(ct);
            signal.NotifyEndpointsChanged();
            LogEnabled(Logger(loggers), id, enabled ? "enabled" : "disabled");
        }

        return Results.Ok(EndpointView.From(endpoint));
    }

    private static async Task<IResult> RotateSecretAsync(
        Guid id, DeliveriesDbContext db, IOptionsMonitor<DeliveriesOptions> options, DeliverySignal signal, ILoggerFactory loggers, CancellationToken ct)
    {
        var endpoint = await db.Endpoints.FirstOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null)
        {
            return NotFound(id);
        }

        var now = DateTime.UtcNow;
        var overlap = options.CurrentValue.SecretRotationOverlap;
        endpoint.PreviousSecret = overlap > TimeSpan.Zero ? endpoint.Secret : null;
        endpoint.PreviousSecretExpiresAt = overlap > TimeSpan.Zero ? now + overlap : null;
        endpoint.Secret = WebhookSigner.NewSecret();
        endpoint.UpdatedAt = now;
        await db.SaveChangesAsync(ct);
        signal.NotifyEndpointsChanged();
        LogRotated(Logger(loggers), id, endpoint.PreviousSecretExpiresAt);
        return Results.Ok(EndpointView.From(endpoint) with { Secret = endpoint.Secret });
    }

    private static async Task<IResult> SendTestAsync(
        Guid id, DeliveriesDbContext db, DeliveryFanOut fanOut, DeliverySignal signal, ILoggerFactory loggers, CancellationToken ct)
    {
        var queued = await QueueTestAsync(id, db, fanOut, signal, loggers, ct);
        if (queued.Refusal is { } refusal)
        {
            return refusal;
        }

        var (e, deliveryId) = queued.Test!.Value;
        return Results.Accepted($"/api/deliveries/{deliveryId}", new { eventId = e.Id, deliveryId, endpointId = id });
    }

    /// <summary>A webhook.test event for this endpoint only, whatever it subscribes to, through the real delivery path.</summary>
    internal static async Task<(IResult? Refusal, (PublicEvent Event, Guid DeliveryId)? Test)> QueueTestAsync(
        Guid id, DeliveriesDbContext db, DeliveryFanOut fanOut, DeliverySignal signal, ILoggerFactory loggers, CancellationToken ct)
    {
        var endpoint = await db.Endpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, ct);
        if (endpoint is null)
        {
            return (NotFound(id), null);
        }

        if (!endpoint.Enabled)
        {
            return (Results.Conflict(new { error = "endpoint_disabled", message = $"Endpoint {id} is disabled; enable it to send a test event." }), null);
        }

        var e = new PublicEvent(PublicEvent.IdOf(Guid.CreateVersion7()), EventCatalogue.WebhookTest, BusEventMapper.PipelineSource,
            DateTimeOffset.UtcNow, new WebhookTestData(TestMessage, id));
        var delivery = fanOut.Add(e, messageId: null, [endpoint])[0];
        await db.SaveChangesAsync(ct);
        DeliveriesMetrics.Created([delivery]);
        signal.Notify(id);
        LogTest(Logger(loggers), id, e.Id, delivery.Id);
        return (null, (e, delivery.Id));
    }

    private static async Task<T?> ReadAsync<T>(HttpRequest request, CancellationToken ct) where T : class
    {
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, RequestJson, ct);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => Dns.GetHostAddressesAsync(host, ct);

    private static readonly JsonSerializerOptions RequestJson = new(JsonSerializerDefaults.Web);

    private static IResult Invalid(IReadOnlyList<string> errors) =>
        Results.BadRequest(new { error = "invalid_endpoint", message = string.Join(" ", errors), errors, knownEventTypes = EventCatalogue.Types });

    private static IResult NotFound(Guid id) => Results.NotFound(new { error = "not_found", message = $"No endpoint {id}." });

    private static ILogger Logger(ILoggerFactory loggers) => loggers.CreateLogger("Pipeline.Deliveries.Endpoints");

    // URLs are logged (they say where data goes); secrets and header values never are.
    [LoggerMessage(Level = LogLevel.Information, Message = "Endpoint {EndpointId} registered: {Url} for {EventTypes}, {Scheme}")]
    private static partial void LogCreated(ILogger logger, Guid endpointId, string url, string eventTypes, string scheme);

    [LoggerMessage(Level = LogLevel.Information, Message = "Endpoint {EndpointId} changed: {Url} for {EventTypes}, {Scheme}")]
    private static partial void LogChanged(ILogger logger, Guid endpointId, string url, string eventTypes, string scheme);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Endpoint request refused: {Errors}")]
    private static partial void LogRefused(ILogger logger, string errors);

    [LoggerMessage(Level = LogLevel.Information, Message = "Endpoint {EndpointId} deleted with {Deliveries} deliveries")]
    private static partial void LogDeleted(ILogger logger, Guid endpointId, int deliveries);

    [LoggerMessage(Level = LogLevel.Information, Message = "Endpoint {EndpointId} {State} by an operator")]
    private static partial void LogEnabled(ILogger logger, Guid endpointId, string state);

    [LoggerMessage(Level = LogLevel.Information, Message = "Endpoint {EndpointId}: secret rotated; the previous one signs too until {PreviousExpiresAt:o}")]
    private static partial void LogRotated(ILogger logger, Guid endpointId, DateTime? previousExpiresAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Endpoint {EndpointId}: test event {WebhookId} queued as delivery {DeliveryId}")]
    private static partial void LogTest(ILogger logger, Guid endpointId, string webhookId, Guid deliveryId);
}

/// <summary>An endpoint as the API shows it: header values hidden (they often carry credentials), the secret only when just made.</summary>
public sealed record EndpointView(
    Guid Id,
    string Url,
    string? Description,
    IReadOnlyList<string> EventTypes,
    IReadOnlyDictionary<string, string> Headers,
    string Scheme,
    int? RateLimitPerSecond,
    bool Enabled,
    string? DisabledReason,
    DateTime? DisabledAt,
    DateTime? PreviousSecretExpiresAt,
    DateTime CreatedAt,
    DateTime UpdatedAt)
{
    public const string HiddenValue = "(hidden)";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Secret { get; init; }

    public static EndpointView From(WebhookEndpoint e) => new(
        e.Id, e.Url, e.Description, DeliveryFanOut.SubscriptionsOf(e),
        (e.Headers is { Length: > 0 } json ? JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [] : [])
            .ToDictionary(h => h.Key, _ => HiddenValue),
        e.Scheme, e.RateLimitPerSecond, e.Enabled, e.DisabledReason, e.DisabledAt,
        e.PreviousSecretExpiresAt is { } expires && expires > DateTime.UtcNow ? expires : null,
        e.CreatedAt, e.UpdatedAt);
}
