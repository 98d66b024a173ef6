using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pipeline.Ingress.Webhooks;

namespace Pipeline.Ingress.Providers.LiveKit;

/// <summary>POST /webhooks/livekit (and the seed's /api/webhook): LiveKit's signed protojson events.</summary>
public sealed class LiveKitProvider(LiveKitVerifierSource verifiers, TimeProvider clock) : IWebhookProvider
{
    public const string Provider = "livekit";

    public string Name => Provider;
    public IReadOnlyList<string> Routes { get; } = ["/webhooks/livekit", "/api/webhook"];

    // Never Authorization: it carries the signed token.
    public IReadOnlyList<string> KeptHeaders { get; } = ["content-type", "user-agent", "x-forwarded-for"];
    public int? MaxBodyBytes => null;

    public string? MissingSetting => verifiers.Current.IsConfigured
        ? null
        : $"{LiveKitOptions.ApiKeyVariable} and {LiveKitOptions.ApiSecretVariable} (or {LiveKitOptions.Section}:Keys)";

    public bool AcceptsContentType(string? contentType) => WebhookBody.IsJson(contentType);

    public ValueTask<VerificationResult> VerifyAsync(byte[] body, HttpRequest request) =>
        verifiers.Current.VerifyAsync(body, request.Headers.Authorization.Count > 0 ? request.Headers.Authorization[0] : null);

    // The receipt time stands in for createdAt only when the body has none.
    public WebhookNormalization Normalize(byte[] body, Guid receiptId, HttpRequest request) =>
        WebhookNormalization.Of(LiveKitEventNormalizer.Normalize(body, receiptId, clock.GetUtcNow()), LiveKitEventNormalizer.Describe);
}

/// <summary>The verifier for the current keys, rebuilt when the configuration reloads (keys added or retired).</summary>
public sealed class LiveKitVerifierSource : IDisposable
{
    private readonly TimeProvider _time;
    private readonly IDisposable? _subscription;
    private volatile LiveKitSignatureVerifier _current;

    public LiveKitVerifierSource(IOptionsMonitor<LiveKitOptions> options, TimeProvider time)
    {
        _time = time;
        _current = Build(options.CurrentValue);
        _subscription = options.OnChange(o => _current = Build(o));
    }

    public LiveKitSignatureVerifier Current => _current;

    public void Dispose() => _subscription?.Dispose();

    private LiveKitSignatureVerifier Build(LiveKitOptions options) => new(options.Keys, options.ClockSkew, _time, options.MaxTokenLifetime);
}

public static class LiveKitRegistration
{
    public static IServiceCollection AddLiveKitProvider(this IServiceCollection services)
    {
        services.AddProviderOptions<LiveKitOptions, LiveKitOptionsSetup>(LiveKitOptions.Section, o => $"{o.Keys.Count} API key(s)");
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<LiveKitVerifierSource>();
        return services.AddWebhookProvider<LiveKitProvider>();
    }
}
