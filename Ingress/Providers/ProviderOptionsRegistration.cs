using Microsoft.Extensions.Options;
using Pipeline.Hosting.Settings;

namespace Pipeline.Ingress.Providers;

public static class ProviderOptionsRegistration
{
    /// <summary>
    /// A built-in provider's section, completed from its environment variables and checked by <typeparamref name="TSetup"/>
    /// at start and on every reload (a reload that fails keeps the last valid value).
    /// </summary>
    public static IServiceCollection AddProviderOptions<TOptions, TSetup>(
        this IServiceCollection services, string section, Func<TOptions, string> describe)
        where TOptions : class
        where TSetup : class, IPostConfigureOptions<TOptions>, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().BindConfiguration(section).ValidateOnStart().KeepLastValidOnReload(describe);
        services.AddSingleton<TSetup>();
        services.AddSingleton<IPostConfigureOptions<TOptions>>(sp => sp.GetRequiredService<TSetup>());
        services.AddSingleton<IValidateOptions<TOptions>>(sp => sp.GetRequiredService<TSetup>());
        return services;
    }

    /// <summary>A provider's secret list (<see cref="ISecretListOptions"/>), checked by <see cref="SecretListOptionsSetup{TOptions}"/>.</summary>
    public static IServiceCollection AddSecretListOptions<TOptions>(this IServiceCollection services)
        where TOptions : class, ISecretListOptions =>
        services.AddProviderOptions<TOptions, SecretListOptionsSetup<TOptions>>(TOptions.Section, o => $"{o.Secrets.Count} secret(s)");
}
