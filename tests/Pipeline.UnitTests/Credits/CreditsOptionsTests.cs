using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Pipeline.Consumers.Credits;

namespace Pipeline.UnitTests.Credits;

public class CreditsOptionsTests
{
    private static (CreditsOptions Options, ValidateOptionsResult Result) Configure(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = configuration.GetSection(CreditsOptions.Section).Get<CreditsOptions>() ?? new CreditsOptions();
        var setup = new CreditsOptionsSetup(configuration);
        setup.PostConfigure(null, options);
        return (options, setup.Validate(null, options));
    }

    [Fact]
    public void Defaults_are_new_apis_rate_a_threshold_of_one_credit_and_open_accounts()
    {
        var (options, result) = Configure([]);

        Assert.True(result.Succeeded);
        Assert.Equal(500_000m, options.QuotaPerCredit);
        Assert.Equal(1.0m, options.LowBalanceThreshold);
        Assert.True(options.CreateUnknownAccounts);
        Assert.True(options.AllowNegative);
        Assert.Empty(options.AdminApiKeys);
    }

    [Fact]
    public void Negative_balances_can_be_turned_off()
    {
        var (options, result) = Configure(new() { ["Credits:AllowNegative"] = "false" });

        Assert.True(result.Succeeded);
        Assert.False(options.AllowNegative);
    }

    [Fact]
    public void Admin_key_from_the_setting_and_the_environment_variable_both_count()
    {
        var (options, result) = Configure(new()
        {
            ["Credits:AdminApiKey"] = "configured-admin-key-0123",
            ["ADMIN_API_KEY"] = "environment-admin-key-0123",
            ["Credits:AdminApiKeys:0"] = "rotated-admin-key-0123456",
        });

        Assert.True(result.Succeeded);
        Assert.Equal(["rotated-admin-key-0123456", "configured-admin-key-0123", "environment-admin-key-0123"], options.AdminApiKeys);
    }

    [Fact]
    public void A_short_admin_key_fails_start_up_naming_the_setting()
    {
        var (_, result) = Configure(new() { ["ADMIN_API_KEY"] = "too-short" });

        Assert.True(result.Failed);
        Assert.Contains("ADMIN_API_KEY", result.FailureMessage);
        Assert.Contains("Credits:AdminApiKey", result.FailureMessage);
    }

    [Theory]
    [InlineData("Credits:QuotaPerCredit", "0", "Credits:QuotaPerCredit")]
    [InlineData("Credits:QuotaPerCredit", "-5", "Credits:QuotaPerCredit")]
    [InlineData("Credits:LowBalanceThreshold", "-1", "Credits:LowBalanceThreshold")]
    public void Impossible_numbers_fail_start_up_naming_the_setting(string key, string value, string named)
    {
        var (_, result) = Configure(new() { [key] = value });

        Assert.True(result.Failed);
        Assert.Contains(named, result.FailureMessage);
    }
}
