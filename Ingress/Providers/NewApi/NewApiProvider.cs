using Microsoft.Extensions.Options;
using Pipeline.Hosting.Settings;
using Pipeline.Ingress.Webhooks;
using Pipeline.Messages.Credits;

namespace Pipeline.Ingress.Providers.NewApi;

/// <summary>
/// Registration and routes of the new-api family provider: POST /webhooks/new-api and the seed's
/// POST /api/webhooks/events. Usage events (<c>type: "consume"</c>) feed credit deduction; notifications pass on.
/// </summary>
public static class NewApiProvider
{
    public const string Provider = "new-api";

    private static readonly WebhookRoute Route = new()
    {
        Provider = Provider,
        KeptHeaders = ["content-type", "user-agent", "x-oneapi-request-id", "x-forwarded-for"],
        Verify = (body, request) => ValueTask.FromResult(NewApiSignatureVerifier.Verify(
            body, request.Headers, request.HttpContext.RequestServices.GetRequiredService<IOptionsMonitor<NewApiOptions>>().CurrentValue.Secrets)),
        Normalize = (body, receiptId, _) =>
        {
            var normalized = NewApiEventNormalizer.Normalize(body, receiptId);
            return normalized.Value switch
            {
                UsageRecordedV1 usage => new WebhookNormalization
                {
                    DedupKey = normalized.DedupKey,
                    Messages = [usage],
                    Description = $"consume {usage.RequestId} for user {usage.UserId}",
                },
                GatewayNotificationV1 notification => new WebhookNormalization
                {
                    DedupKey = normalized.DedupKey,
                    Messages = [notification],
                    Description = $"{notification.Type} notification",
                },
                _ => WebhookNormalization.Malformed(normalized.Error ?? "malformed body"),
            };
        },
    };

    public static IServiceCollection AddNewApiProvider(this IServiceCollection services)
    {
        services.AddOptions<NewApiOptions>().BindConfiguration(NewApiOptions.Section)
            .ValidateOnStart()
            .KeepLastValidOnReload(o => $"{o.Secrets.Count} secret(s)");
        services.AddSingleton<NewApiOptionsSetup>();
        services.AddSingleton<IPostConfigureOptions<NewApiOptions>>(sp => sp.GetRequiredService<NewApiOptionsSetup>());
        services.AddSingleton<IValidateOptions<NewApiOptions>>(sp => sp.GetRequiredService<NewApiOptionsSetup>());
        return services;
    }

    public static IEndpointRouteBuilder MapNewApiWebhooks(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapWebhook("/webhooks/new-api", Route);
        endpoints.MapWebhook("/api/webhooks/events", Route); // the seed's receiver path
        return endpoints;
    }
}
