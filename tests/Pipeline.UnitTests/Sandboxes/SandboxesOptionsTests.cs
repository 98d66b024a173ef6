using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Consumers.Sandboxes;

namespace Pipeline.UnitTests.Sandboxes;

public class SandboxesOptionsTests
{
    private static SandboxesOptions Bind(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddOptions<SandboxesOptions>().BindConfiguration(SandboxesOptions.Section).ValidateDataAnnotations();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<SandboxesOptions>>().Value;
    }

    [Fact]
    public void Defaults_mark_a_sandbox_stale_after_24_hours_checked_every_minute_with_no_prices()
    {
        var options = Bind([]);

        Assert.Equal((TimeSpan.FromHours(24), TimeSpan.FromMinutes(1)), (options.StaleAfter, options.StaleCheckInterval));
        Assert.Empty(options.PricePerSecond);
        Assert.Null(options.DefaultPricePerSecond);
        Assert.Null(options.PriceOf("base"));
    }

    [Fact]
    public void A_template_has_its_own_price_or_the_default()
    {
        var options = Bind(new()
        {
            ["Sandboxes:PricePerSecond:base"] = "0.000014",
            ["Sandboxes:PricePerSecond:gpu-large"] = "0.0011",
            ["Sandboxes:DefaultPricePerSecond"] = "0.00002",
        });

        Assert.Equal(0.000014m, options.PriceOf("base"));
        Assert.Equal(0.0011m, options.PriceOf("gpu-large"));
        Assert.Equal(0.00002m, options.PriceOf("other"));
        Assert.Equal(0.00002m, options.PriceOf(null));
    }

    [Theory]
    [InlineData("Sandboxes:StaleAfter", "00:00:30", "Sandboxes:StaleAfter must be between 00:01:00 and 365.00:00:00")]
    [InlineData("Sandboxes:StaleCheckInterval", "00:00:00", "Sandboxes:StaleCheckInterval must be between 00:00:00.1000000 and 1.00:00:00")]
    [InlineData("Sandboxes:PricePerSecond:base", "-0.1", "Sandboxes:PricePerSecond:base must be 0 or more")]
    [InlineData("Sandboxes:DefaultPricePerSecond", "-1", "Sandboxes:DefaultPricePerSecond must be 0 or more")]
    public void A_bad_value_stops_start_up_naming_the_setting(string key, string value, string expected)
    {
        var message = Assert.Throws<OptionsValidationException>(() => Bind(new() { [key] = value })).Message;
        Assert.Contains(expected, message);
    }
}
