using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Ingress.Providers.E2b;

namespace Pipeline.UnitTests.Hosting;

/// <summary>E2B's options as Ingress registers them, over a configuration a test changes and reloads.</summary>
public sealed class LastValidOptionsMonitorTests : IDisposable
{
    private readonly IConfigurationRoot _configuration;
    private readonly ServiceProvider _services;

    public LastValidOptionsMonitorTests()
    {
        _configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Providers:E2b:Secrets:0"] = "first-secret-0123456789",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(_configuration);
        services.AddE2bProvider();
        _services = services.BuildServiceProvider();
    }

    private IOptionsMonitor<E2bOptions> Monitor => _services.GetRequiredService<IOptionsMonitor<E2bOptions>>();

    [Fact]
    public void A_valid_reload_applies_and_notifies()
    {
        Assert.Equal(["first-secret-0123456789"], Monitor.CurrentValue.Secrets);
        var notified = new List<List<string>>();
        using var subscription = Monitor.OnChange((options, _) => notified.Add(options.Secrets));

        Change("Providers:E2b:Secrets:1", "second-secret-0123456789");

        Assert.Equal(["first-secret-0123456789", "second-secret-0123456789"], Monitor.CurrentValue.Secrets);
        Assert.Equal(["first-secret-0123456789", "second-secret-0123456789"], Assert.Single(notified));
    }

    [Fact]
    public void A_weak_secret_arriving_by_reload_is_refused_and_the_last_valid_value_stays()
    {
        Assert.Equal(["first-secret-0123456789"], Monitor.CurrentValue.Secrets);
        var notified = 0;
        using var subscription = Monitor.OnChange((_, _) => notified++);

        // The stock monitor would throw here (on the watcher's thread) and on every CurrentValue afterwards.
        Change("Providers:E2b:Secrets:0", "weak");

        Assert.Equal(["first-secret-0123456789"], Monitor.CurrentValue.Secrets);
        Assert.Equal(0, notified);

        Change("Providers:E2b:Secrets:0", "fixed-secret-0123456789");
        Assert.Equal(["fixed-secret-0123456789"], Monitor.CurrentValue.Secrets);
        Assert.Equal(1, notified);
    }

    [Fact]
    public void A_weak_secret_at_start_up_still_fails_validation_naming_the_key()
    {
        Change("Providers:E2b:Secrets:0", "weak");
        var failure = Assert.Throws<OptionsValidationException>(() => _services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains("Providers:E2b:Secrets", failure.Message);
        Assert.Contains(E2bOptions.SecretVariable, failure.Message);
        Assert.DoesNotContain("weak", failure.Message);
    }

    [Fact]
    public void No_secret_at_all_is_valid_and_leaves_the_provider_off()
    {
        Change("Providers:E2b:Secrets:0", null);
        _services.GetRequiredService<IStartupValidator>().Validate();
        Assert.Empty(Monitor.CurrentValue.Secrets);
    }

    public void Dispose() => _services.Dispose();

    private void Change(string key, string? value)
    {
        _configuration.Providers.Single().Set(key, value);
        _configuration.Reload();
    }
}
