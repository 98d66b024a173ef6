using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Pipeline.Consumers.Deliveries;

namespace Pipeline.UnitTests.Deliveries;

public class DeliveriesOptionsTests
{
    private static (DeliveriesOptions Options, List<string> Errors) Bind(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = configuration.GetSection(DeliveriesOptions.Section).Get<DeliveriesOptions>() ?? new DeliveriesOptions();
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return (options, results.Select(r => r.ErrorMessage!).ToList());
    }

    [Fact]
    public void Defaults_are_secure_and_follow_svix()
    {
        var (options, errors) = Bind([]);

        Assert.Empty(errors);
        Assert.False(options.AllowPrivateNetworks);
        Assert.False(options.AllowHttp);
        Assert.Equal(TimeSpan.FromSeconds(15), options.Timeout);
        Assert.Equal(TimeSpan.FromHours(24), options.SecretRotationOverlap);
        Assert.Equal(8, options.EffectiveRetrySchedule().Count);
    }

    [Fact]
    public void A_configured_schedule_replaces_the_default_rather_than_adding_to_it()
    {
        var (options, errors) = Bind(new()
        {
            ["Deliveries:RetrySchedule:0"] = "00:00:00",
            ["Deliveries:RetrySchedule:1"] = "00:00:01",
        });

        Assert.Empty(errors);
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(1)], options.EffectiveRetrySchedule());
    }

    [Fact]
    public void Bad_settings_are_named()
    {
        var (_, errors) = Bind(new()
        {
            ["Deliveries:RetrySchedule:0"] = "-00:00:01",
            ["Deliveries:Timeout"] = "00:01:00",
            ["Deliveries:Lease"] = "00:00:30",
            ["Deliveries:MaxInFlightPerEndpoint"] = "64",
            ["Deliveries:MaxInFlight"] = "16",
        });

        Assert.Contains("Deliveries:RetrySchedule:0 must be between 00:00:00 and 7.00:00:00 (it is -00:00:01).", errors);
        Assert.Contains("Deliveries:Lease (00:00:30) must be at least Deliveries:Timeout (00:01:00) plus 10 seconds.", errors);
        Assert.Contains("Deliveries:MaxInFlightPerEndpoint (64) must not exceed Deliveries:MaxInFlight (16).", errors);
    }
}
