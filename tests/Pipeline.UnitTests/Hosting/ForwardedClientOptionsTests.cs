using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Hosting;

namespace Pipeline.UnitTests.Hosting;

/// <summary>The <c>ForwardedHeaders</c> section as the hosts bind and validate it.</summary>
public sealed class ForwardedClientOptionsTests
{
    private static ForwardedClientOptions Bind(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddForwardedClients();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<ForwardedClientOptions>>().Value;
    }

    [Fact]
    public void No_proxy_is_trusted_by_default()
    {
        var options = Bind([]);
        Assert.False(options.Enabled);
        Assert.Equal(1, options.ForwardLimit);
    }

    [Fact]
    public void Proxies_and_networks_are_read_and_turn_it_on()
    {
        var options = Bind(new() { ["ForwardedHeaders:KnownProxies:0"] = "10.0.0.5", ["ForwardedHeaders:KnownNetworks:0"] = "fd00::/8" });
        Assert.True(options.Enabled);
        Assert.Equal(["10.0.0.5"], options.KnownProxies);
        Assert.Equal(["fd00::/8"], options.KnownNetworks);
    }

    [Theory]
    [InlineData("ForwardedHeaders:KnownProxies:0", "proxy.internal", "KnownProxies has 'proxy.internal', which is not an IP address")]
    [InlineData("ForwardedHeaders:KnownNetworks:0", "10.0.0.0/33", "KnownNetworks has '10.0.0.0/33', which is not a network in CIDR form")]
    [InlineData("ForwardedHeaders:KnownNetworks:0", "10.0.0.1", "KnownNetworks has '10.0.0.1'")]
    [InlineData("ForwardedHeaders:ForwardLimit", "0", "ForwardedHeaders:ForwardLimit must be between 1 and 10 (it is 0)")]
    public void A_bad_setting_is_named_at_start(string key, string value, string message)
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Bind(new() { [key] = value }));
        Assert.Contains(message, failure.Message);
    }
}
