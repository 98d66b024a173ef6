using System.Globalization;
using Microsoft.Extensions.Options;
using Pipeline.Ingress.Webhooks;

namespace Pipeline.Ingress.Providers.E2b;

/// <summary>POST /webhooks/e2b (and the seeds' /postreceive), answering in the shape the seeds expect.</summary>
public static class E2bWebhookEndpoint
{
    public const string Provider = "e2b";

    private static readonly WebhookRoute Route = new()
    {
        Provider = Provider,
        KeptHeaders = ["content-type", "user-agent", "e2b-webhook-id", "e2b-delivery-id", "e2b-signature-version", "x-forwarded-for"],
        Verify = (body, request) =>
        {
            var secrets = request.HttpContext.RequestServices.GetRequiredService<IOptionsMonitor<E2bOptions>>().CurrentValue.Secrets;
            return ValueTask.FromResult(secrets.Count == 0
                ? VerificationResult.Invalid("provider not configured", StatusCodes.Status404NotFound)
                : E2bSignatureVerifier.Verify(body, request.Headers, secrets));
        },
        Normalize = (body, receiptId, _) =>
        {
            var normalized = E2bEventNormalizer.Normalize(body, receiptId);
            if (normalized.Value is not { } message)
            {
                return WebhookNormalization.Malformed(normalized.Error ?? "malformed body");
            }

            return new WebhookNormalization
            {
                DedupKey = normalized.DedupKey,
                Messages = [message],
                Description = $"{message.Label} for sandbox {message.SandboxId}",
                Respond = (_, _) => Results.Ok(new
                {
                    success = true,
                    message = $"Event {message.Label} processed successfully",
                    sandboxId = message.SandboxId,
                    timestamp = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                }),
            };
        },
    };

    public static void MapE2bWebhooks(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapWebhook("/webhooks/e2b", Route);
        endpoints.MapWebhook("/postreceive", Route);
    }
}
