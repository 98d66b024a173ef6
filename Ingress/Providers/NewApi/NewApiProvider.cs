using Microsoft.Extensions.Options;
using Pipeline.Ingress.Webhooks;
using Pipeline.Messages.Credits;

namespace Pipeline.Ingress.Providers.NewApi;

/// <summary>
/// The new-api family provider: POST /webhooks/new-api and the seed's POST /api/webhooks/events. Usage events
/// (<c>type: "consume"</c>) feed credit deduction; notifications pass on.
/// </summary>
public sealed class NewApiProvider(IOptionsMonitor<NewApiOptions> options) : IWebhookProvider
{
    public const string Provider = "new-api";

    public string Name => Provider;
    public IReadOnlyList<string> Routes { get; } = ["/webhooks/new-api", "/api/webhooks/events"];
    public IReadOnlyList<string> KeptHeaders { get; } = ["content-type", "user-agent", "x-oneapi-request-id", "x-forwarded-for"];
    public int? MaxBodyBytes => null;

    public string? MissingSetting => options.CurrentValue.Secrets.Count == 0 ? SecretListOptionsSetup<NewApiOptions>.Settings : null;

    public bool AcceptsContentType(string? contentType) => WebhookBody.IsJson(contentType);

    public ValueTask<VerificationResult> VerifyAsync(byte[] body, HttpRequest request) =>
        ValueTask.FromResult(NewApiSignatureVerifier.Verify(body, request.Headers, options.CurrentValue.Secrets));

    public WebhookNormalization Normalize(byte[] body, Guid receiptId, HttpRequest request) =>
        WebhookNormalization.Of(NewApiEventNormalizer.Normalize(body, receiptId), message => message switch
        {
            UsageRecordedV1 usage => $"consume {usage.RequestId} for user {usage.UserId}",
            GatewayNotificationV1 notification => $"{notification.Type} notification",
            _ => "event",
        });
}

public static class NewApiRegistration
{
    public static IServiceCollection AddNewApiProvider(this IServiceCollection services) => services
        .AddSecretListOptions<NewApiOptions>()
        .AddWebhookProvider<NewApiProvider>();
}
