using System.Globalization;
using Microsoft.Extensions.Options;
using Pipeline.Ingress.Webhooks;

namespace Pipeline.Ingress.Providers.E2b;

/// <summary>POST /webhooks/e2b (and the seeds' /postreceive), answering in the shape the seeds expect.</summary>
public sealed class E2bProvider(IOptionsMonitor<E2bOptions> options) : IWebhookProvider
{
    public const string Provider = "e2b";

    public string Name => Provider;
    public IReadOnlyList<string> Routes { get; } = ["/webhooks/e2b", "/postreceive"];
    public IReadOnlyList<string> KeptHeaders { get; } =
        ["content-type", "user-agent", "e2b-webhook-id", "e2b-delivery-id", "e2b-signature-version", "x-forwarded-for"];
    public int? MaxBodyBytes => null;

    public string? MissingSetting => options.CurrentValue.Secrets.Count == 0 ? SecretListOptionsSetup<E2bOptions>.Settings : null;

    public bool AcceptsContentType(string? contentType) => WebhookBody.IsJson(contentType);

    public ValueTask<VerificationResult> VerifyAsync(byte[] body, HttpRequest request) =>
        ValueTask.FromResult(E2bSignatureVerifier.Verify(body, request.Headers, options.CurrentValue.Secrets));

    public WebhookNormalization Normalize(byte[] body, Guid receiptId, HttpRequest request)
    {
        var normalized = WebhookNormalization.Of(E2bEventNormalizer.Normalize(body, receiptId), m => $"{m.Label} for sandbox {m.SandboxId}");
        if (normalized.Messages is not [Messages.Sandboxes.SandboxLifecycleEventV1 message])
        {
            return normalized;
        }

        return normalized with
        {
            Respond = (_, _) => Results.Ok(new
            {
                success = true,
                message = $"Event {message.Label} processed successfully",
                sandboxId = message.SandboxId,
                timestamp = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            }),
        };
    }
}

public static class E2bRegistration
{
    public static IServiceCollection AddE2bProvider(this IServiceCollection services) => services
        .AddSecretListOptions<E2bOptions>()
        .AddWebhookProvider<E2bProvider>();
}
