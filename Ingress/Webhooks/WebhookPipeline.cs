using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Outbox;
using Pipeline.Hosting.Telemetry;
using Pipeline.Ingress.Dashboard;
using Pipeline.Ingress.Providers;
using Pipeline.Ingress.Receipts;

namespace Pipeline.Ingress.Webhooks;

/// <summary>
/// The one request path every provider shares (a singleton): content type (415) and size (413) before the body is read, signature (401;
/// 429 once the client address has failed too often), body (400); a repeat of an event recorded moments ago answered as a
/// duplicate at once (429 once the address has repeated too much); else the provider's rate (429, charged only for new
/// verified requests), then the receipt and its outbox rows in one transaction (shared with the requests committed
/// alongside), and 200 only after that commit. A provider that is not
/// configured answers 404 before any of it. Every refusal is counted with its reason and logged (not configured: once).
/// </summary>
public sealed partial class WebhookPipeline(
    IOptionsMonitor<IngressOptions> options, WebhookRateLimiter limiter, RecentlyRecorded recent, WebhookTraffic traffic, ILoggerFactory loggers)
{
    private readonly ILogger _logger = loggers.CreateLogger("Pipeline.Ingress.Webhooks");

    // The log scope of each provider's requests (providers are names in code and settings), made once.
    private readonly ConcurrentDictionary<string, KeyValuePair<string, object>[]> _scopes = new(StringComparer.Ordinal);

    // Providers whose "not configured" answer has been logged: once per provider, not once per request.
    private readonly ConcurrentDictionary<string, byte> _notConfiguredLogged = new(StringComparer.Ordinal);

    public async Task<IResult> HandleAsync(HttpContext http, IWebhookProvider provider, ReceiptWriter writer)
    {
        using var scope = _logger.BeginScope(_scopes.GetOrAdd(provider.Name, name => [new("Provider", name)]));
        var started = Stopwatch.GetTimestamp();
        traffic.Track(http, provider.Name, started);
        IngressMetrics.Received.WithLabels(provider.Name).Inc();

        // Decided here for every provider and source, before anything about the request is looked at.
        if (provider.MissingSetting is { } setting)
        {
            var detail = $"provider {provider.Name} is not configured: set {setting}";
            if (_notConfiguredLogged.TryAdd(provider.Name, 0))
            {
                LogNotConfigured(_logger, provider.Name, detail);
            }

            return WebhookResponses.Reject(_logger, provider.Name, StatusCodes.Status404NotFound, VerificationResult.NotConfiguredReason, detail, log: false);
        }

        if (!provider.AcceptsContentType(http.Request.ContentType))
        {
            return WebhookResponses.Reject(_logger, provider.Name, StatusCodes.Status415UnsupportedMediaType,
                "unsupported content type", $"Content-Type '{http.Request.ContentType}' is not accepted here.");
        }

        var limit = provider.MaxBodyBytes ?? options.CurrentValue.BodyLimitFor(provider.Name);
        var body = await WebhookBody.ReadAsync(http.Request, limit, http.RequestAborted);
        if (body is null)
        {
            return WebhookResponses.Reject(_logger, provider.Name, StatusCodes.Status413PayloadTooLarge, "body too large",
                $"The body exceeds {limit} bytes.");
        }

        VerificationResult verification;
        using (var span = StartSpan("webhook verify", provider.Name))
        {
            verification = await provider.VerifyAsync(body, http.Request);
            span?.SetTag("pipeline.verified", verification.IsValid);
        }

        if (!verification.IsValid)
        {
            return limiter.TryAcquireFailure(http.Connection.RemoteIpAddress) is { } wait
                ? TooMany(http, _logger, provider.Name, wait, "too many failed verifications",
                    "Too many requests from this address failed verification")
                : WebhookResponses.Reject(_logger, provider.Name, verification.Status, verification.Reason);
        }

        var receiptId = Guid.CreateVersion7();
        WebhookNormalization normalized;
        using (var span = StartSpan("webhook normalize", provider.Name))
        {
            normalized = provider.Normalize(body, receiptId, http.Request);
            span?.SetTag("pipeline.messages", normalized.Messages.Count);
        }

        if (normalized.Error is not null)
        {
            return WebhookResponses.Reject(_logger, provider.Name, StatusCodes.Status400BadRequest, "malformed body", normalized.Error);
        }

        AcceptOutcome outcome;
        if (recent.Contains(provider.Name, normalized.DedupKey))
        {
            // Recorded moments ago: a sender's retry, or a captured request replayed. The duplicate it is, charged to the
            // client's address: the provider's rate is for new events, and a replay must not use it up.
            if (limiter.TryAcquireRepeat(http.Connection.RemoteIpAddress) is { } wait)
            {
                return TooMany(http, _logger, provider.Name, wait, "too many repeats", "Too many repeated deliveries from this address");
            }

            outcome = AcceptOutcome.Duplicate;
        }
        else
        {
            if (limiter.TryAcquire(provider.Name) is { } retryAfter)
            {
                return TooMany(http, _logger, provider.Name, retryAfter, "rate limited", $"Too many requests for {provider.Name}");
            }

            // The receipt and its outbox rows are written inside this span: the rows keep its traceparent, and the
            // publish and the consumer's effect continue the same trace.
            using (var span = StartSpan("webhook accept", provider.Name))
            {
                span?.SetTag("pipeline.receipt_id", receiptId.ToString());
                var now = DateTime.UtcNow;
                outcome = await writer.AcceptAsync(
                    new IncomingWebhook(receiptId, provider.Name, normalized.DedupKey, now,
                        WebhookResponses.KeepHeaders(http.Request.Headers, provider.KeptHeaders), body,
                        normalized.Messages.Select(m => OutboxRegistration.Row(m, receiptId, now)).ToList()),
                    http.RequestAborted);
                span?.SetTag("pipeline.outcome", outcome == AcceptOutcome.Accepted ? "new" : "duplicate");
            }

            recent.Add(provider.Name, normalized.DedupKey);
        }

        IngressMetrics.Accepted.WithLabels(provider.Name, outcome == AcceptOutcome.Accepted ? "new" : "duplicate").Inc();
        IngressMetrics.AcceptDuration.WithLabels(provider.Name).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (outcome == AcceptOutcome.Accepted)
        {
            LogAccepted(_logger, provider.Name, normalized.Description, receiptId, normalized.DedupKey, verification.Reason);
        }
        else
        {
            LogDuplicate(_logger, provider.Name, normalized.Description, normalized.DedupKey);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refusing {Provider} webhooks with 404 until configured: {Detail}")]
    private static partial void LogNotConfigured(ILogger logger, string provider, string detail);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Accepted {Provider} {Description} as receipt {ReceiptId} (dedup key {DedupKey}, {Scheme})")]
    private static partial void LogAccepted(ILogger logger, string provider, string description, Guid receiptId, string dedupKey, string scheme);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Duplicate {Provider} {Description} (dedup key {DedupKey}): already recorded, answered 200")]
    private static partial void LogDuplicate(ILogger logger, string provider, string description, string dedupKey);
}
