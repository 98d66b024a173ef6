using System.Diagnostics;
using Pipeline.Hosting.Telemetry;
using Pipeline.Ingress.Providers;
using Pipeline.Ingress.Receipts;

namespace Pipeline.Ingress.Webhooks;

/// <summary>What a provider brings to the shared request path: its checks, its normalization, its answer.</summary>
public sealed class WebhookRoute
{
    /// <summary>The provider or source name: the metric label, the receipt's provider, the log property.</summary>
    public required string Provider { get; init; }

    /// <summary>Headers recorded with the receipt (never signatures or credentials).</summary>
    public IReadOnlyList<string> KeptHeaders { get; init; } = ["content-type", "user-agent"];

    public Func<string?, bool> AcceptsContentType { get; init; } = WebhookBody.IsJson;

    /// <summary>Overrides <c>Ingress:MaxBodyBytes</c> for this route.</summary>
    public int? MaxBodyBytes { get; init; }

    /// <summary>Asynchronous because some schemes (LiveKit's JWT) are checked through an async library API.</summary>
    public required Func<byte[], HttpRequest, ValueTask<VerificationResult>> Verify { get; init; }

    public required Func<byte[], Guid, HttpRequest, WebhookNormalization> Normalize { get; init; }
}

/// <summary>A verified body turned into messages, or the reason it is malformed.</summary>
public sealed record WebhookNormalization
{
    public string? Error { get; init; }
    public string DedupKey { get; init; } = "";
    public IReadOnlyList<object> Messages { get; init; } = [];

    /// <summary>A few words for the log line, e.g. "kill for sandbox X".</summary>
    public string Description { get; init; } = "";

    /// <summary>The 200 answer; by default <c>{"success":true,"receiptId":…,"duplicate":…}</c>.</summary>
    public Func<AcceptOutcome, Guid, IResult>? Respond { get; init; }

    public static WebhookNormalization Malformed(string error) => new() { Error = error };
}

/// <summary>
/// The one request path every provider shares: content type (415) and size (413) before the body is read, signature (401;
/// 429 once the client address has failed too often), the provider's rate (429, charged only for verified requests), body
/// (400), then the receipt and its outbox rows in one transaction, and 200 only after the commit. Every refusal is logged
/// and counted with its reason.
/// </summary>
public static partial class WebhookPipeline
{
    public static RouteHandlerBuilder MapWebhook(this IEndpointRouteBuilder endpoints, string pattern, WebhookRoute route) =>
        endpoints.MapPost(pattern, (Delegate)((HttpContext http) => HandleAsync(http, route)));

    public static async Task<IResult> HandleAsync(HttpContext http, WebhookRoute route)
    {
        var services = http.RequestServices;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Pipeline.Ingress.Webhooks");
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["Provider"] = route.Provider });
        var started = Stopwatch.GetTimestamp();
        Dashboard.WebhookTraffic.Instance.Track(http, route.Provider, started);
        IngressMetrics.Received.WithLabels(route.Provider).Inc();

        if (!route.AcceptsContentType(http.Request.ContentType))
        {
            return WebhookResponses.Reject(logger, route.Provider, StatusCodes.Status415UnsupportedMediaType,
                "unsupported content type", $"Content-Type '{http.Request.ContentType}' is not accepted here.");
        }

        var limit = route.MaxBodyBytes ?? services.GetRequiredService<Microsoft.Extensions.Options.IOptionsMonitor<IngressOptions>>().CurrentValue.BodyLimitFor(route.Provider);
        var body = await WebhookBody.ReadAsync(http.Request, limit, http.RequestAborted);
        if (body is null)
        {
            return WebhookResponses.Reject(logger, route.Provider, StatusCodes.Status413PayloadTooLarge, "body too large",
                $"The body exceeds {limit} bytes.");
        }

        VerificationResult verification;
        using (var span = StartSpan("webhook verify", route.Provider))
        {
            verification = await route.Verify(body, http.Request);
            span?.SetTag("pipeline.verified", verification.IsValid);
        }

        var limiter = services.GetRequiredService<WebhookRateLimiter>();
        if (!verification.IsValid)
        {
            return limiter.TryAcquireFailure(http.Connection.RemoteIpAddress) is { } wait
                ? TooMany(http, logger, route.Provider, wait, "too many failed verifications",
                    "Too many requests from this address failed verification")
                : WebhookResponses.Reject(logger, route.Provider, verification.Status, verification.Reason);
        }

        if (limiter.TryAcquire(route.Provider) is { } retryAfter)
        {
            return TooMany(http, logger, route.Provider, retryAfter, "rate limited", $"Too many requests for {route.Provider}");
        }

        var receiptId = Guid.CreateVersion7();
        WebhookNormalization normalized;
        using (var span = StartSpan("webhook normalize", route.Provider))
        {
            normalized = route.Normalize(body, receiptId, http.Request);
            span?.SetTag("pipeline.messages", normalized.Messages.Count);
        }

        if (normalized.Error is not null)
        {
            return WebhookResponses.Reject(logger, route.Provider, StatusCodes.Status400BadRequest, "malformed body", normalized.Error);
        }

        // The receipt and its outbox rows are written inside this span: the rows keep its traceparent, and the
        // publish and the consumer's effect continue the same trace.
        var writer = services.GetRequiredService<ReceiptWriter>();
        AcceptOutcome outcome;
        using (var span = StartSpan("webhook accept", route.Provider))
        {
            span?.SetTag("pipeline.receipt_id", receiptId.ToString());
            outcome = await writer.AcceptAsync(
                new IncomingWebhook(receiptId, route.Provider, normalized.DedupKey, DateTime.UtcNow,
                    WebhookResponses.KeepHeaders(http.Request.Headers, route.KeptHeaders), body, normalized.Messages),
                http.RequestAborted);
            span?.SetTag("pipeline.outcome", outcome == AcceptOutcome.Accepted ? "new" : "duplicate");
        }

        IngressMetrics.Accepted.WithLabels(route.Provider, outcome == AcceptOutcome.Accepted ? "new" : "duplicate").Inc();
        IngressMetrics.AcceptDuration.WithLabels(route.Provider).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (outcome == AcceptOutcome.Accepted)
        {
            LogAccepted(logger, route.Provider, normalized.Description, receiptId, normalized.DedupKey, verification.Reason);
        }
        else
        {
            LogDuplicate(logger, route.Provider, normalized.Description, normalized.DedupKey);
        }

        return normalized.Respond?.Invoke(outcome, receiptId)
               ?? Results.Ok(new { success = true, receiptId, duplicate = outcome == AcceptOutcome.Duplicate });
    }

    private static IResult TooMany(HttpContext http, ILogger logger, string provider, TimeSpan retryAfter, string reason, string detail)
    {
        var seconds = Math.Ceiling(retryAfter.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture);
        http.Response.Headers.RetryAfter = seconds;
        return WebhookResponses.Reject(logger, provider, StatusCodes.Status429TooManyRequests, reason, $"{detail}; retry after {seconds} s.");
    }

    private static Activity? StartSpan(string name, string provider)
    {
        var span = PipelineTelemetry.Source.StartActivity(name);
        span?.SetTag("pipeline.provider", provider);
        return span;
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Accepted {Provider} {Description} as receipt {ReceiptId} (dedup key {DedupKey}, {Scheme})")]
    private static partial void LogAccepted(ILogger logger, string provider, string description, Guid receiptId, string dedupKey, string scheme);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Duplicate {Provider} {Description} (dedup key {DedupKey}): already recorded, answered 200")]
    private static partial void LogDuplicate(ILogger logger, string provider, string description, string dedupKey);
}
