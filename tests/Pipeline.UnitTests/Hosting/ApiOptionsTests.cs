using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Access;

namespace Pipeline.UnitTests.Hosting;

/// <summary>The read keys as every host registers them, over a configuration a test changes and reloads.</summary>
public sealed class ApiOptionsTests : IDisposable
{
    private const string First = "first-read-key-0123456789";
    private readonly IConfigurationRoot _configuration;
    private readonly ServiceProvider _services;

    public ApiOptionsTests()
    {
        _configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Api:ReadKeys:0"] = First,
            ["Api:ReadKeys:1"] = "", // an unset variable of a deployment file (Api__ReadKeys__1: ${API_READ_KEY_NEXT:-})
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(_configuration);
        services.AddApiAccess();
        _services = services.BuildServiceProvider();
    }

    private IOptionsMonitor<ApiOptions> Monitor => _services.GetRequiredService<IOptionsMonitor<ApiOptions>>();

    [Fact]
    public void Blank_keys_are_dropped_and_a_new_key_applies_on_reload()
    {
        Assert.Equal([First], Monitor.CurrentValue.ReadKeys);

        Change("Api:ReadKeys:1", "second-read-key-0123456789");

        Assert.Equal([First, "second-read-key-0123456789"], Monitor.CurrentValue.ReadKeys);
    }

    [Fact]
    public void A_weak_key_arriving_by_reload_is_refused_and_the_last_valid_keys_stay()
    {
        Assert.Equal([First], Monitor.CurrentValue.ReadKeys);

        Change("Api:ReadKeys:0", "weak");

        Assert.Equal([First], Monitor.CurrentValue.ReadKeys);
    }

    [Fact]
    public void A_weak_key_at_start_is_an_error_naming_the_setting_not_the_key()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Api:ReadKeys:0"] = "qZxWv" }).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration);
        services.AddApiAccess();
        using var provider = services.BuildServiceProvider();

        var failure = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains("Api:ReadKeys", failure.Message);
        Assert.Contains("shorter than 16 characters", failure.Message);
        Assert.DoesNotContain("qZxWv", failure.Message);
    }

    public void Dispose() => _services.Dispose();

    private void Change(string key, string value)
    {
        _configuration.Providers.Single().Set(key, value);
        _configuration.Reload();
    }
}
