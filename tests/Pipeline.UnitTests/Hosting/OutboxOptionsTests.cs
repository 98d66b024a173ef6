using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Outbox;

namespace Pipeline.UnitTests.Hosting;

/// <summary>The <c>Outbox</c> section as the hosts bind and validate it.</summary>
public sealed class OutboxOptionsTests
{
    private static OutboxOptions Bind(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.AddOptions<OutboxOptions>().BindConfiguration(OutboxOptions.Section).ValidateDataAnnotations();
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<OutboxOptions>>().Value;
    }

    [Fact]
    public void Published_rows_are_deleted_by_default_a_quarter_second_after_the_first_confirm()
    {
        var options = Bind([]);
        Assert.Equal((TimeSpan.Zero, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(60)), (options.RetainSent, options.CompleteDelay, options.Lease));
    }

    [Fact]
    public void Four_publish_rounds_are_in_flight_by_default_and_one_to_sixteen_may_be_set()
    {
        Assert.Equal(4, Bind([]).PublishRounds);
        Assert.Equal(1, Bind(new() { ["Outbox:PublishRounds"] = "1" }).PublishRounds);
        var failure = Assert.Throws<OptionsValidationException>(() => Bind(new() { ["Outbox:PublishRounds"] = "0" }));
        Assert.Contains("PublishRounds", failure.Message);
    }

    [Fact]
    public void Confirmed_rows_may_not_wait_longer_than_their_lease()
    {
        var failure = Assert.Throws<OptionsValidationException>(() => Bind(new() { ["Outbox:CompleteDelay"] = "00:01:00" }));
        Assert.Contains("Outbox:CompleteDelay (00:01:00) must be shorter than Outbox:Lease (00:01:00)", failure.Message);

        Assert.Equal(TimeSpan.FromMinutes(1), Bind(new() { ["Outbox:CompleteDelay"] = "00:01:00", ["Outbox:Lease"] = "00:05:00" }).CompleteDelay);
    }
}
