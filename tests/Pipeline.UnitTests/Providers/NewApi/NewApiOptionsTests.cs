using Microsoft.Extensions.Configuration;
using Pipeline.Ingress.Providers;
using Pipeline.Ingress.Providers.NewApi;

namespace Pipeline.UnitTests.Providers.NewApi;

public class NewApiOptionsTests
{
    private static (NewApiOptions Options, Microsoft.Extensions.Options.ValidateOptionsResult Result) Configure(
        Dictionary<string, string?> settings, params string[] configured)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var setup = new SecretListOptionsSetup<NewApiOptions>(configuration);
        var options = new NewApiOptions { Secrets = [.. configured] };
        setup.PostConfigure(null, options);
        return (options, setup.Validate(null, options));
    }

    [Fact]
    public void No_secret_anywhere_is_valid_and_leaves_the_provider_disabled()
    {
        var (options, result) = Configure([]);

        Assert.Empty(options.Secrets);
        Assert.True(result.Succeeded);
    }

    [Fact]
    public void Both_environment_variables_join_the_configured_list()
    {
        var (options, result) = Configure(
            new() { ["NEWAPI_WEBHOOK_SECRET"] = "env-secret-0123456789", ["WEBHOOK_SECRET"] = "seed-secret-0123456789" },
            "configured-secret-0123456789");

        Assert.True(result.Succeeded);
        Assert.Equal(["configured-secret-0123456789", "env-secret-0123456789", "seed-secret-0123456789"], options.Secrets);
    }

    [Fact]
    public void Blank_entries_are_dropped()
    {
        var (options, _) = Configure(new() { ["WEBHOOK_SECRET"] = "  " }, "", "configured-secret-0123456789");

        Assert.Equal(["configured-secret-0123456789"], options.Secrets);
    }

    [Fact]
    public void A_weak_secret_fails_start_up_naming_the_keys()
    {
        var (_, result) = Configure(new() { ["NEWAPI_WEBHOOK_SECRET"] = "short" });

        Assert.True(result.Failed);
        Assert.Contains("Providers:NewApi:Secrets", result.FailureMessage);
        Assert.Contains("NEWAPI_WEBHOOK_SECRET", result.FailureMessage);
        Assert.Contains("16", result.FailureMessage);
    }
}
