using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Ingress.Providers.Generic;

namespace Pipeline.UnitTests.Providers.Generic;

/// <summary>The generic provider's registrations over an in-memory configuration that a test can change and reload.</summary>
internal sealed class GenericSourcesTestHost : IDisposable
{
    private readonly IConfigurationRoot _configuration;
    private readonly ServiceProvider _services;

    public GenericSourcesTestHost(Dictionary<string, string?> settings, DateTimeOffset? now = null)
    {
        _configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(_configuration);
        services.AddSingleton<TimeProvider>(new FixedClock(now ?? DateTimeOffset.UtcNow));
        services.AddGenericProvider();
        _services = services.BuildServiceProvider();
    }

    public IServiceProvider Services => _services;

    public GenericSourceResolver Resolver => _services.GetRequiredService<GenericSourceResolver>();

    /// <summary>Runs what ValidateOnStart runs when the host starts.</summary>
    public void ValidateOnStart() => _services.GetRequiredService<IStartupValidator>().Validate();

    public OptionsValidationException StartupFailure() => Assert.Throws<OptionsValidationException>(ValidateOnStart);

    /// <summary>Sets (or with null, removes) keys and raises the configuration's reload, as a changed appsettings.json does.</summary>
    public void Change(IDictionary<string, string?> settings)
    {
        var provider = _configuration.Providers.Single();
        foreach (var (key, value) in settings)
        {
            provider.Set(key, value);
        }

        try
        {
            _configuration.Reload();
        }
        catch (AggregateException ex) when (ex.InnerExceptions.All(e => e is OptionsValidationException))
        {
            // The stock IOptionsMonitor validates inside the change callback and throws here; the one Ingress registers
            // (LastValidOptionsMonitor) logs the problems and keeps the last valid value instead.
        }
    }

    public void Dispose() => _services.Dispose();

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
