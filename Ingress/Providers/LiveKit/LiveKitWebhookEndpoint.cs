using Pipeline.Ingress.Webhooks;

namespace Pipeline.Ingress.Providers.LiveKit;

/// <summary>POST /webhooks/livekit (and the seed's /api/webhook): LiveKit's signed protojson events.</summary>
public static class LiveKitWebhookEndpoint
{
    public const string Provider = "livekit";

    private static readonly WebhookRoute Route = new()
    {
        Provider = Provider,
        // Never Authorization: it carries the signed token.
        KeptHeaders = ["content-type", "user-agent", "x-forwarded-for"],
        Verify = (body, request) => request.HttpContext.RequestServices.GetRequiredService<LiveKitVerifierSource>().Current
            .VerifyAsync(body, request.Headers.Authorization.Count > 0 ? request.Headers.Authorization[0] : null),
        Normalize = (body, receiptId, request) =>
        {
            // The receipt time stands in for createdAt only when the body has none.
            var receivedAt = request.HttpContext.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
            var normalized = LiveKitEventNormalizer.Normalize(body, receiptId, receivedAt);
            if (normalized.Value is not { } message)
            {
                return WebhookNormalization.Malformed(normalized.Error ?? "malformed body");
            }

            return new WebhookNormalization
            {
                DedupKey = normalized.DedupKey,
                Messages = [message],
                Description = LiveKitEventNormalizer.Describe(message),
            };
        },
    };

    public static IEndpointRouteBuilder MapLiveKitWebhooks(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapWebhook("/webhooks/livekit", Route);
        endpoints.MapWebhook("/api/webhook", Route);
        return endpoints;
    }
}
