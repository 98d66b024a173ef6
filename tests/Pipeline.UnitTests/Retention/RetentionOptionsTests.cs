using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Consumers.Credits;
using Pipeline.Consumers.Rooms;
using Pipeline.Consumers.Sandboxes;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.Retention;
using Pipeline.Ingress;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.UnitTests.Retention;

/// <summary>Every retention setting is checked at start-up, and a bad one names itself.</summary>
public sealed class RetentionOptionsTests
{
    private static T Resolve<T>(Dictionary<string, string?> settings, Action<IServiceCollection> register) where T : class
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration);
        services.AddOptions<BusOptions>().BindConfiguration(BusOptions.Section);
        register(services);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<T>>().Value;
    }

    private static T Bind<T>(string section, Dictionary<string, string?> settings) where T : class =>
        Resolve<T>(settings, s => s.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations());

    private static InboxOptions Inbox(Dictionary<string, string?> settings) =>
        Resolve<InboxOptions>(settings, s => s.AddInboxRetention<SandboxesDbContext>());

    private static string Failure(Action resolve) => Assert.Throws<OptionsValidationException>(resolve).Message;

    [Fact]
    public void Defaults_keep_receipts_30_days_inbox_rows_7_days_killed_sandboxes_and_finished_rooms_30_days()
    {
        Assert.Equal(TimeSpan.FromDays(30), Bind<IngressOptions>(IngressOptions.Section, []).ReceiptRetention);
        Assert.Equal(TimeSpan.FromDays(7), Inbox([]).Retention);
        Assert.Equal(TimeSpan.FromDays(30), Bind<SandboxesOptions>(SandboxesOptions.Section, []).KilledRetention);
        Assert.Equal(TimeSpan.FromDays(30), Bind<RoomsOptions>(RoomsOptions.Section, []).FinishedRetention);
        var retention = Bind<RetentionOptions>(RetentionOptions.Section, []);
        Assert.Equal((TimeSpan.FromMinutes(5), 1000, TimeSpan.FromMilliseconds(200)), (retention.Interval, retention.BatchSize, retention.PauseBetweenBatches));
    }

    [Fact]
    public void The_inbox_horizon_must_outlast_the_whole_redelivery_schedule()
    {
        var eightDays = new Dictionary<string, string?>
        {
            ["Bus:Redelivery:0"] = "1.00:00:00", ["Bus:Redelivery:1"] = "1.00:00:00", ["Bus:Redelivery:2"] = "1.00:00:00",
            ["Bus:Redelivery:3"] = "1.00:00:00", ["Bus:Redelivery:4"] = "1.00:00:00", ["Bus:Redelivery:5"] = "1.00:00:00",
            ["Bus:Redelivery:6"] = "1.00:00:00", ["Bus:Redelivery:7"] = "1.00:00:00",
        };

        // Each delay is shorter than the default 7 days, but a message waits through all of them in turn.
        var message = Failure(() => Inbox(eightDays));
        Assert.Contains("Inbox:Retention (7.00:00:00) must be longer than the whole Bus:Redelivery schedule (8.00:00:00 over 8 delays)", message);

        Assert.Equal(TimeSpan.FromDays(9), Inbox(new(eightDays) { ["Inbox:Retention"] = "9.00:00:00" }).Retention);
        // Equal is not enough: the last retry may come a moment after the schedule's end.
        Assert.Contains("Inbox:Retention (03:00:00) must be longer than the whole Bus:Redelivery schedule (03:00:00 over 3 delays)",
            Failure(() => Inbox(new() { ["Inbox:Retention"] = "03:00:00", ["Bus:Redelivery:0"] = "01:00:00", ["Bus:Redelivery:1"] = "01:00:00", ["Bus:Redelivery:2"] = "01:00:00" })));
    }

    [Fact]
    public void The_inbox_horizon_has_a_floor_of_an_hour_even_without_delayed_retries()
    {
        Assert.Contains("Inbox:Retention must be between 01:00:00 and 3650.00:00:00 (it is 00:59:59)",
            Failure(() => Inbox(new() { ["Inbox:Retention"] = "00:59:59" })));
        Assert.Equal(TimeSpan.FromHours(1), Inbox(new() { ["Inbox:Retention"] = "01:00:00" }).Retention);
    }

    [Fact]
    public void The_dedup_window_is_at_least_the_longest_signature_tolerance()
    {
        Assert.Contains("Ingress:ReceiptRetention must be between 01:00:00 (the longest signature tolerance) and 3650.00:00:00 (it is 00:10:00)",
            Failure(() => Bind<IngressOptions>(IngressOptions.Section, new() { ["Ingress:ReceiptRetention"] = "00:10:00" })));
        Assert.Equal(TimeSpan.FromDays(90), Bind<IngressOptions>(IngressOptions.Section, new() { ["Ingress:ReceiptRetention"] = "90.00:00:00" }).ReceiptRetention);
    }

    [Theory]
    [InlineData("Sandboxes:KilledRetention", "00:00:30")]
    [InlineData("Rooms:FinishedRetention", "3651.00:00:00")]
    public void Sandbox_and_room_retention_out_of_range_stop_start_up_naming_the_setting(string key, string value)
    {
        var settings = new Dictionary<string, string?> { [key] = value };
        var message = key.StartsWith("Sandboxes", StringComparison.Ordinal)
            ? Failure(() => Bind<SandboxesOptions>(SandboxesOptions.Section, settings))
            : Failure(() => Bind<RoomsOptions>(RoomsOptions.Section, settings));

        Assert.Contains($"{key} must be between 00:01:00 and 3650.00:00:00", message);
    }

    [Fact]
    public void The_credits_webhook_log_is_kept_30_days_by_default_and_a_bad_value_names_the_setting()
    {
        static ValidateOptionsResult Validate(Dictionary<string, string?> settings)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
            var options = configuration.GetSection(CreditsOptions.Section).Get<CreditsOptions>() ?? new CreditsOptions();
            return new CreditsOptionsSetup(configuration).Validate(null, options);
        }

        Assert.Equal(TimeSpan.FromDays(30), new CreditsOptions().WebhookLogRetention);
        Assert.True(Validate(new() { ["Credits:WebhookLogRetention"] = "1.00:00:00" }).Succeeded);
        Assert.Contains("Credits:WebhookLogRetention must be between 00:01:00 and 3650.00:00:00 (it is 00:00:10)",
            Validate(new() { ["Credits:WebhookLogRetention"] = "00:00:10" }).FailureMessage);
    }

    [Theory]
    [InlineData("Retention:BatchSize", "0", "Retention:BatchSize must be between 1 and 50000.")]
    [InlineData("Retention:BatchSize", "50001", "Retention:BatchSize must be between 1 and 50000.")]
    [InlineData("Retention:Interval", "00:00:00.050", "Retention:Interval must be between 00:00:00.100 and 1.00:00:00.")]
    [InlineData("Retention:PauseBetweenBatches", "-00:00:01", "Retention:PauseBetweenBatches must be between 00:00:00 and 00:01:00.")]
    public void A_purge_setting_out_of_range_stops_start_up_naming_it(string key, string value, string expected) =>
        Assert.Contains(expected, Failure(() => Bind<RetentionOptions>(RetentionOptions.Section, new() { [key] = value })));
}
