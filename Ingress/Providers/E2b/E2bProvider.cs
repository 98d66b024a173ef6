using Microsoft.Extensions.Options;
using Pipeline.Hosting.Settings;

namespace Pipeline.Ingress.Providers.E2b;

/// <summary>Registration of the E2B provider; its routes are in <see cref="E2bWebhookEndpoint"/>.</summary>
public static class E2bProvider
{
    public static IServiceCollection AddE2bProvider(this IServiceCollection services)
    {
        services.AddOptions<E2bOptions>().BindConfiguration(E2bOptions.Section)
            .ValidateOnStart()
            .KeepLastValidOnReload(o => $"{o.Secrets.Count} secret(s)");
        services.AddSingleton<E2bOptionsSetup>();
        services.AddSingleton<IPostConfigureOptions<E2bOptions>>(sp => sp.GetRequiredService<E2bOptionsSetup>());
        services.AddSingleton<IValidateOptions<E2bOptions>>(sp => sp.GetRequiredService<E2bOptionsSetup>());
        return services;
    }
}
