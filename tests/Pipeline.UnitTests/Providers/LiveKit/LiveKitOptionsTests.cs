using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Ingress.Providers.LiveKit;

namespace Pipeline.UnitTests.Providers.LiveKit;

public class LiveKitOptionsTests
{
    private static string RandomSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLiveKitProvider();
        return services.BuildServiceProvider();
    }

    private static LiveKitOptions Options(Dictionary<string, string?> settings)
    {
        using var provider = Services(settings);
        return provider.GetRequiredService<IOptions<LiveKitOptions>>().Value;
    }

    private static string Failure(Dictionary<string, string?> settings)
    {
        using var provider = Services(settings);
        return Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<LiveKitOptions>>().Value).Message;
    }

    [Fact]
    public void No_keys_is_valid_and_leaves_the_provider_disabled()
    {
        using var provider = Services([]);

        var options = provider.GetRequiredService<IOptions<LiveKitOptions>>().Value;

        Assert.Empty(options.Keys);
        Assert.Equal(TimeSpan.FromSeconds(60), options.ClockSkew);
        Assert.False(provider.GetRequiredService<LiveKitVerifierSource>().Current.IsConfigured);
    }

    [Fact]
    public void Environment_pair_and_key_map_are_merged()
    {
        var envSecret = RandomSecret();
        var oldSecret = RandomSecret();
        var newSecret = RandomSecret();

        var options = Options(new()
        {
            [LiveKitOptions.ApiKeyVariable] = "APIenv",
            [LiveKitOptions.ApiSecretVariable] = envSecret,
            ["Providers:LiveKit:Keys:APIold"] = oldSecret,
            ["Providers:LiveKit:Keys:APInew"] = newSecret,
            ["Providers:LiveKit:Keys:APIblank"] = "",
            ["Providers:LiveKit:ClockSkew"] = "00:00:30",
        });

        Assert.Equal(3, options.Keys.Count);
        Assert.Equal(envSecret, options.Keys["APIenv"]);
        Assert.Equal(oldSecret, options.Keys["APIold"]);
        Assert.Equal(newSecret, options.Keys["APInew"]);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ClockSkew);
    }

    [Fact]
    public void Short_secret_stops_start_up_naming_the_key()
    {
        var message = Failure(new() { ["Providers:LiveKit:Keys:APIshort"] = "abababa", ["Providers:LiveKit:Keys:APIgood"] = RandomSecret() });

        Assert.Contains("APIshort", message);
        Assert.Contains("16", message);
        Assert.DoesNotContain("APIgood", message);
        Assert.DoesNotContain("abababa", message);
    }

    [Fact]
    public void Short_environment_secret_stops_start_up_naming_the_key()
    {
        var message = Failure(new() { [LiveKitOptions.ApiKeyVariable] = "APIenv", [LiveKitOptions.ApiSecretVariable] = "too-short" });

        Assert.Contains("APIenv", message);
        Assert.Contains(LiveKitOptions.ApiSecretVariable, message);
    }

    [Theory]
    [InlineData(LiveKitOptions.ApiKeyVariable)]
    [InlineData(LiveKitOptions.ApiSecretVariable)]
    public void Half_an_environment_pair_stops_start_up(string variable)
    {
        var message = Failure(new() { [variable] = "APIsomething-long-enough" });

        Assert.Contains(LiveKitOptions.ApiKeyVariable, message);
        Assert.Contains(LiveKitOptions.ApiSecretVariable, message);
    }

    [Theory]
    [InlineData("-00:00:01")]
    [InlineData("00:05:01")]
    public void Clock_skew_is_bounded(string skew)
    {
        var message = Failure(new() { ["Providers:LiveKit:ClockSkew"] = skew });

        Assert.Contains("Providers:LiveKit:ClockSkew", message);
    }

    [Theory]
    [InlineData("00:04:59")] // shorter than LiveKit's own tokens
    [InlineData("1.00:00:01")]
    public void Max_token_lifetime_is_bounded(string lifetime)
    {
        var message = Failure(new() { ["Providers:LiveKit:MaxTokenLifetime"] = lifetime });

        Assert.Contains("Providers:LiveKit:MaxTokenLifetime", message);
    }

    [Fact]
    public void Max_token_lifetime_is_an_hour_unless_set()
    {
        Assert.Equal(TimeSpan.FromHours(1), Options([]).MaxTokenLifetime);
        Assert.Equal(TimeSpan.FromMinutes(10), Options(new() { ["Providers:LiveKit:MaxTokenLifetime"] = "00:10:00" }).MaxTokenLifetime);
    }

    [Fact]
    public void Verifier_follows_a_configuration_reload()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLiveKitProvider();
        using var provider = services.BuildServiceProvider();
        var source = provider.GetRequiredService<LiveKitVerifierSource>();
        Assert.False(source.Current.IsConfigured);

        configuration["Providers:LiveKit:Keys:APIadded"] = RandomSecret();
        configuration.Reload();

        Assert.True(source.Current.IsConfigured);
    }
}
