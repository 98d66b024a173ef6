using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Options;
using Pipeline.Ingress.Receipts;
using Pipeline.Ingress.Webhooks;

namespace Pipeline.Ingress.Providers.E2b;

/// <summary>POST /webhooks/e2b (and the seeds' /postreceive): verify, normalize, record, answer as the seeds expect.</summary>
public static partial class E2bWebhookEndpoint
{
    public const string Provider = "e2b";

    private static readonly string[] KeptHeaders =
        ["content-type", "user-agent", "e2b-webhook-id", "e2b-delivery-id", "e2b-signature-version", "x-forwarded-for"];

    public static void MapE2bWebhooks(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/webhooks/e2b", HandleAsync);
        endpoints.MapPost("/postreceive", HandleAsync);
    }

    public static async Task<IResult> HandleAsync(
        HttpContext http,
        IOptionsMonitor<E2bOptions> e2b,
        IOptionsMonitor<IngressOptions> ingress,
        ReceiptWriter writer,
        ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("Pipeline.Ingress.E2b");
        var started = Stopwatch.GetTimestamp();
        IngressMetrics.Received.WithLabels(Provider).Inc();

        if (!WebhookBody.IsJson(http.Request.ContentType))
        {
            return WebhookResponses.Reject(logger, Provider, StatusCodes.Status415UnsupportedMediaType, "unsupported content type",
                "Content-Type must be application/json.");
        }

        var body = await WebhookBody.ReadAsync(http.Request, ingress.CurrentValue.MaxBodyBytes, http.RequestAborted);
        if (body is null)
        {
            return WebhookResponses.Reject(logger, Provider, StatusCodes.Status413PayloadTooLarge, "body too large",
                $"The body exceeds {ingress.CurrentValue.MaxBodyBytes} bytes.");
        }

        var verification = E2bSignatureVerifier.Verify(body, http.Request.Headers, e2b.CurrentValue.Secrets);
        if (!verification.IsValid)
        {
            return WebhookResponses.Reject(logger, Provider, StatusCodes.Status401Unauthorized, verification.Reason);
        }

        var receiptId = Guid.CreateVersion7();
        var normalized = E2bEventNormalizer.Normalize(body, receiptId);
        if (normalized.Value is not { } message)
        {
            return WebhookResponses.Reject(logger, Provider, StatusCodes.Status400BadRequest, "malformed body", normalized.Error);
        }

        var outcome = await writer.AcceptAsync(
            new IncomingWebhook(receiptId, Provider, normalized.DedupKey, DateTime.UtcNow,
                WebhookResponses.KeepHeaders(http.Request.Headers, KeptHeaders), body, [message]),
            http.RequestAborted);

        IngressMetrics.Accepted.WithLabels(Provider, outcome == AcceptOutcome.Accepted ? "new" : "duplicate").Inc();
        IngressMetrics.AcceptDuration.WithLabels(Provider).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        if (outcome == AcceptOutcome.Accepted)
        {
            LogAccepted(logger, message.Label, message.SandboxId, receiptId, normalized.DedupKey, verification.Reason);
        }
        else
        {
            LogDuplicate(logger, message.Label, message.SandboxId, normalized.DedupKey);
        }

        return Results.Ok(new
        {
            success = true,
            message = $"Event {message.Label} processed successfully",
            sandboxId = message.SandboxId,
            timestamp = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        });
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Accepted e2b {Label} for sandbox {SandboxId} as receipt {ReceiptId} (dedup key {DedupKey}, {Scheme})")]
    private static partial void LogAccepted(ILogger logger, string label, string sandboxId, Guid receiptId, string dedupKey, string scheme);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Duplicate e2b {Label} for sandbox {SandboxId} (dedup key {DedupKey}): already recorded, answered 200")]
    private static partial void LogDuplicate(ILogger logger, string label, string sandboxId, string dedupKey);
}
