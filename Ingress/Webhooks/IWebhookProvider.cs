using Pipeline.Ingress.Providers;
using Pipeline.Ingress.Receipts;

namespace Pipeline.Ingress.Webhooks;

/// <summary>
/// One webhook sender as the shared request path (<see cref="WebhookPipeline"/>) sees it: its routes, what it accepts,
/// how it verifies and what it turns a body into. Built-in providers are singletons registered with
/// <see cref="WebhookProviderRegistration.AddWebhookProvider{TProvider}"/>; generic sources are resolved by name.
/// </summary>
public interface IWebhookProvider
{
    /// <summary>The provider or source name: the metric label, the receipt's provider, the log property.</summary>
    string Name { get; }

    /// <summary>The POST routes it answers (none for a generic source, answered at <c>/webhooks/{name}</c>).</summary>
    IReadOnlyList<string> Routes { get; }

    /// <summary>Headers recorded with the receipt (never signatures or credentials).</summary>
    IReadOnlyList<string> KeptHeaders { get; }

    /// <summary>Overrides <c>Ingress:MaxBodyBytes</c>; null for the Ingress setting.</summary>
    int? MaxBodyBytes { get; }

    /// <summary>
    /// Null when the provider can verify requests; else what to set to enable it (e.g. <c>E2B_WEBHOOK_SECRET</c>), for a
    /// 404 that says so. Read on every request: it follows configuration reloads.
    /// </summary>
    string? MissingSetting { get; }

    bool AcceptsContentType(string? contentType);

    /// <summary>Asynchronous because some schemes (LiveKit's JWT) are checked through an async library API.</summary>
    ValueTask<VerificationResult> VerifyAsync(byte[] body, HttpRequest request);

    WebhookNormalization Normalize(byte[] body, Guid receiptId, HttpRequest request);
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

    /// <summary>One message, or the normalizer's error.</summary>
    public static WebhookNormalization Of<T>(NormalizationResult<T> normalized, Func<T, string> describe) where T : class =>
        normalized.Value is { } message
            ? new WebhookNormalization { DedupKey = normalized.DedupKey, Messages = [message], Description = describe(message) }
            : Malformed(normalized.Error ?? "malformed body");
}

public static class WebhookProviderRegistration
{
    /// <summary>Registers a built-in provider; <see cref="MapWebhookProviders"/> maps its routes.</summary>
    public static IServiceCollection AddWebhookProvider<TProvider>(this IServiceCollection services)
        where TProvider : class, IWebhookProvider
    {
        services.AddSingleton<TProvider>();
        services.AddSingleton<IWebhookProvider>(sp => sp.GetRequiredService<TProvider>());
        return services;
    }

    /// <summary>Every registered provider's routes, into the one request path.</summary>
    public static IEndpointRouteBuilder MapWebhookProviders(this IEndpointRouteBuilder endpoints)
    {
        foreach (var provider in endpoints.ServiceProvider.GetServices<IWebhookProvider>())
        {
            foreach (var route in provider.Routes)
            {
                endpoints.MapPost(route, (Delegate)((HttpContext http, WebhookPipeline pipeline, ReceiptWriter writer) =>
                    pipeline.HandleAsync(http, provider, writer)));
            }
        }

        return endpoints;
    }
}
