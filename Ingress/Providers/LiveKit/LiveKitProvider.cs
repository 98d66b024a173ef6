using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Settings;

namespace Pipeline.Ingress.Providers.LiveKit;

/// <summary>Registration of the LiveKit provider; its routes are in <see cref="LiveKitWebhookEndpoint"/>.</summary>
public static class LiveKitProvider
{
    public static IServiceCollection AddLiveKitProvider(this IServiceCollection services)
    {
        services.AddOptions<LiveKitOptions>().BindConfiguration(LiveKitOptions.Section)
            .ValidateOnStart()
            .KeepLastValidOnReload(o => $"{o.Keys.Count} API key(s)");
        services.AddSingleton<LiveKitOptionsSetup>();
        services.AddSingleton<IPostConfigureOptions<LiveKitOptions>>(sp => sp.GetRequiredService<LiveKitOptionsSetup>());
        services.AddSingleton<IValidateOptions<LiveKitOptions>>(sp => sp.GetRequiredService<LiveKitOptionsSetup>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<LiveKitVerifierSource>();
        return services;
    }
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
