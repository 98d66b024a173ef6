using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Ingress;

namespace Pipeline.UnitTests.Ingress;

public sealed class IngressOptionsTests
{
    private static IngressOptions Bind(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddOptions<IngressOptions>().BindConfiguration(IngressOptions.Section).ValidateDataAnnotations().Services
            .BuildServiceProvider();
        return services.GetRequiredService<IOptions<IngressOptions>>().Value;
    }

    [Fact]
    public void A_provider_can_have_its_own_body_limit_and_the_others_keep_the_shared_one()
    {
        var options = Bind(new()
        {
            ["Ingress:MaxBodyBytes"] = "100000",
            ["Ingress:MaxBodyBytesByProvider:livekit"] = "4096",
        });

        Assert.Equal(4096, options.BodyLimitFor("livekit"));
        Assert.Equal(4096, options.BodyLimitFor("LiveKit"));
        Assert.Equal(100000, options.BodyLimitFor("e2b"));
        Assert.Equal(100000, options.BodyLimitFor("new-api"));
    }

    [Fact]
    public void A_provider_limit_out_of_range_stops_start_up_naming_the_setting()
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Bind(new() { ["Ingress:MaxBodyBytesByProvider:e2b"] = "10" }));

        Assert.Contains("Ingress:MaxBodyBytesByProvider:e2b must be between 1024 and 16777216", failure.Message);
    }
}
