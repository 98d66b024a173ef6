using Microsoft.Extensions.Configuration;
using Pipeline.Hosting.Bus;

namespace Pipeline.UnitTests.Bus;

public class ManagementApiTests
{
    [Theory]
    [InlineData("amqp://guest:guest@rabbit.internal:5672/", "http://rabbit.internal:15672/")]
    [InlineData("amqps://pipeline:s3cret@rabbit.internal:5671/prod", "https://rabbit.internal:15671/")]
    [InlineData("amqps://pipeline:s3cret@[::1]:5671/", "https://[::1]:15671/")]
    public void Unset_the_management_api_is_the_brokers_host_over_tls_whenever_the_broker_is(string broker, string expected)
    {
        var options = Bind(broker, management: null);

        Assert.Empty(Problems(options));
        Assert.Equal(new Uri(expected), options.ManagementUri());
    }

    [Theory]
    [InlineData("amqp://guest:guest@127.0.0.1:5672/", "http://127.0.0.1:15672/")]
    [InlineData("amqp://guest:guest@127.0.0.1:5672/", "https://mq.example:443/management/")]
    [InlineData("amqps://pipeline:s3cret@rabbit.internal:5671/", "https://rabbit-admin.internal/")]
    public void A_configured_management_api_is_used_as_it_is(string broker, string management)
    {
        var options = Bind(broker, management);

        Assert.Empty(Problems(options));
        Assert.Equal(new Uri(management), options.ManagementUri());
    }

    [Fact]
    public void An_http_management_api_for_an_amqps_broker_stops_start_up_naming_the_setting()
    {
        var options = Bind("amqps://pipeline:s3cret@rabbit.internal:5671/", "http://rabbit.internal:15672/");

        var problem = Assert.Single(Problems(options));
        Assert.Contains("Bus:RabbitMqManagement must be https://", problem);
        Assert.Contains("https://rabbit.internal:15671/", problem);
        Assert.Throws<ArgumentException>(options.ManagementUri);
    }

    [Theory]
    [InlineData("rabbit.internal:15672")]
    [InlineData("ftp://rabbit.internal/")]
    [InlineData("/api/")]
    public void A_management_api_that_is_not_an_http_uri_stops_start_up_naming_the_setting(string management)
    {
        var problem = Assert.Single(Problems(Bind("amqp://guest:guest@127.0.0.1:5672/", management)));

        Assert.Contains("Bus:RabbitMqManagement must be an absolute http:// or https:// URI", problem);
    }

    [Fact]
    public void The_operator_tool_resolves_its_management_option_the_same_way()
    {
        var broker = new Uri("amqps://pipeline:s3cret@rabbit.internal:5671/");

        Assert.Equal(new Uri("https://rabbit.internal:15671/"), ManagementApi.Resolve(broker, null, "--management"));
        var refused = Assert.Throws<ArgumentException>(() => ManagementApi.Resolve(broker, "http://rabbit.internal:15672/", "--management"));
        Assert.StartsWith("--management must be https://", refused.Message);
    }

    private static BusOptions Bind(string broker, string? management)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Bus:RabbitMq"] = broker,
            ["Bus:RabbitMqManagement"] = management,
        }).Build();
        return configuration.GetSection(BusOptions.Section).Get<BusOptions>()!;
    }

    private static List<string> Problems(BusOptions options) =>
        options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(r => r.ErrorMessage!).ToList();
}
