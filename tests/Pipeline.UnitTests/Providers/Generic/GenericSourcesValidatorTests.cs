using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Pipeline.Ingress.Providers.Generic;
using static Pipeline.UnitTests.Providers.Generic.GenericTestRequests;

namespace Pipeline.UnitTests.Providers.Generic;

public class GenericSourcesValidatorTests
{
    private static OptionsValidationException Failure(Dictionary<string, string?> settings)
    {
        using var host = new GenericSourcesTestHost(settings);
        return host.StartupFailure();
    }

    private static void AssertFailsNaming(Dictionary<string, string?> settings, string expected)
    {
        var failure = Failure(settings);
        Assert.Contains(failure.Failures, f => f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_valid_configuration_binds_every_setting()
    {
        var whsec = WhsecSecret();
        var old = TextSecret();
        var current = TextSecret();
        using var host = new GenericSourcesTestHost(new()
        {
            ["Sources:billing:Scheme"] = "standard-webhooks",
            ["Sources:billing:Secrets:0"] = whsec,
            ["Sources:billing:Tolerance"] = "00:02:00",
            ["Sources:agents-2:Scheme"] = "HMAC-SHA256",
            ["Sources:agents-2:Secrets:0"] = old,
            ["Sources:agents-2:Secrets:1"] = current,
            ["Sources:agents-2:MaxBodyBytes"] = "65536",
            ["Sources:runs:Scheme"] = "token",
            ["Sources:runs:Secrets:0"] = TextSecret(),
            ["Sources:runs:TokenHeader"] = "X-Pipeline-Token",
            ["Sources:off:Scheme"] = "github",
        });

        host.ValidateOnStart();
        var sources = host.Services.GetRequiredService<IOptionsMonitor<GenericSourcesOptions>>().CurrentValue.Sources;

        Assert.Equal(["agents-2", "billing", "off", "runs"], sources.Keys.Order());
        Assert.Equal([whsec], sources["billing"].Secrets);
        Assert.Equal(TimeSpan.FromMinutes(2), sources["billing"].Tolerance);
        Assert.Equal([old, current], sources["agents-2"].Secrets);
        Assert.Equal(65536, sources["agents-2"].MaxBodyBytes);
        Assert.Equal("X-Pipeline-Token", sources["runs"].TokenHeader);
        Assert.Empty(sources["off"].Secrets);
        Assert.Equal(SourceSchemes.HmacSha256, GenericSource.From("agents-2", sources["agents-2"]).Scheme);
        Assert.Equal(GenericSourceOptions.DefaultTolerance, GenericSource.From("runs", sources["runs"]).Tolerance);
    }

    [Theory]
    [InlineData("e2b")]
    [InlineData("livekit")]
    [InlineData("new-api")]
    public void Reserved_names_stop_start_up(string name) =>
        AssertFailsNaming(new() { [$"Sources:{name}:Scheme"] = "github", [$"Sources:{name}:Secrets:0"] = TextSecret() },
            $"Sources:{name}: '{name}' is reserved");

    [Theory]
    [InlineData("Acme")]
    [InlineData("acme_corp")]
    [InlineData("-acme")]
    [InlineData("acme.corp")]
    [InlineData("a12345678901234567890123456789012345678901234567890123456789012345")]
    public void Bad_names_stop_start_up(string name) =>
        AssertFailsNaming(new() { [$"Sources:{name}:Scheme"] = "github", [$"Sources:{name}:Secrets:0"] = TextSecret() },
            $"Sources:{name}: a source name is 1 to 64 characters");

    [Fact]
    public void Unknown_and_missing_schemes_stop_start_up()
    {
        var failure = Failure(new()
        {
            ["Sources:acme:Scheme"] = "hmac-sha1",
            ["Sources:acme:Secrets:0"] = TextSecret(),
            ["Sources:other:Secrets:0"] = TextSecret(),
        });

        Assert.Contains(failure.Failures, f => f.StartsWith("Sources:acme:Scheme 'hmac-sha1' is not a known scheme", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.StartsWith("Sources:other:Scheme is required", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("hmac-sha256")]
    [InlineData("github")]
    [InlineData("stripe")]
    [InlineData("slack")]
    [InlineData("token")]
    public void A_secret_shorter_than_16_characters_stops_start_up_and_is_not_echoed(string scheme)
    {
        var failure = Failure(new()
        {
            ["Sources:acme:Scheme"] = scheme,
            ["Sources:acme:Secrets:0"] = TextSecret(),
            ["Sources:acme:Secrets:1"] = "short-secret-15",
        });

        var message = Assert.Single(failure.Failures);
        Assert.Equal("Sources:acme:Secrets:1 is shorter than 16 characters.", message);
    }

    [Fact]
    public void Standard_webhooks_secrets_must_decode_to_a_key_of_16_bytes_or_more()
    {
        var failure = Failure(new()
        {
            ["Sources:acme:Scheme"] = "standard-webhooks",
            ["Sources:acme:Secrets:0"] = "whsec_" + Convert.ToBase64String(new byte[12]),
            ["Sources:acme:Secrets:1"] = "whsec_this is not base64!",
        });

        Assert.Contains(failure.Failures, f => f.StartsWith("Sources:acme:Secrets:0 decodes to a 12-byte key", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.StartsWith("Sources:acme:Secrets:1 is not a standard-webhooks secret", StringComparison.Ordinal));
        Assert.DoesNotContain(failure.Failures, f => f.Contains("this is not base64", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:05:00")]
    [InlineData("300.00:00:00")]
    public void Tolerance_out_of_range_stops_start_up(string tolerance) =>
        AssertFailsNaming(new()
        {
            ["Sources:acme:Scheme"] = "stripe", ["Sources:acme:Secrets:0"] = TextSecret(), ["Sources:acme:Tolerance"] = tolerance,
        }, "Sources:acme:Tolerance must be more than zero");

    [Theory]
    [InlineData("Tolerance", "five minutes")]
    [InlineData("MaxBodyBytes", "64k")]
    public void A_value_that_does_not_convert_stops_start_up_naming_the_key(string setting, string value)
    {
        var failure = Failure(new()
        {
            ["Sources:acme:Scheme"] = "stripe", ["Sources:acme:Secrets:0"] = TextSecret(), [$"Sources:acme:{setting}"] = value,
        });

        Assert.Contains(failure.Failures, f => f.Contains($"Sources:acme:{setting}", StringComparison.Ordinal));
    }

    [Fact]
    public void Max_body_bytes_out_of_range_and_a_token_header_on_a_signed_scheme_stop_start_up()
    {
        var failure = Failure(new()
        {
            ["Sources:acme:Scheme"] = "github",
            ["Sources:acme:Secrets:0"] = TextSecret(),
            ["Sources:acme:MaxBodyBytes"] = "100",
            ["Sources:acme:TokenHeader"] = "X-Token",
            ["Sources:runs:Scheme"] = "token",
            ["Sources:runs:TokenHeader"] = "X Token",
        });

        Assert.Contains(failure.Failures, f => f.StartsWith("Sources:acme:MaxBodyBytes must be between", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.StartsWith("Sources:acme:TokenHeader applies only to the token scheme", StringComparison.Ordinal));
        Assert.Contains(failure.Failures, f => f.StartsWith("Sources:runs:TokenHeader is not a valid HTTP header name", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unknown_body_format_stops_start_up_and_each_scheme_has_its_default()
    {
        AssertFailsNaming(new() { ["Sources:acme:Scheme"] = "github", ["Sources:acme:Secrets:0"] = TextSecret(), ["Sources:acme:Format"] = "xml" },
            "Sources:acme:Format 'xml' is not a body format: one of json, raw");

        Assert.Equal(SourceFormats.Raw, GenericSource.From("runs", new GenericSourceOptions { Scheme = "token" }).Format);
        Assert.Equal(SourceFormats.Json, GenericSource.From("agents", new GenericSourceOptions { Scheme = "hmac-sha256" }).Format);
        Assert.Equal(SourceFormats.Raw, GenericSource.From("agents", new GenericSourceOptions { Scheme = "hmac-sha256", Format = "RAW" }).Format);
    }

    [Fact]
    public void A_misspelt_setting_stops_start_up_instead_of_silently_disabling_the_source() =>
        AssertFailsNaming(new() { ["Sources:acme:Scheme"] = "github", ["Sources:acme:Secret"] = TextSecret() },
            "Sources:acme:Secret is not a setting of a source");

    [Fact]
    public void A_source_without_secrets_is_valid_and_disabled()
    {
        using var host = new GenericSourcesTestHost(new() { ["Sources:acme:Scheme"] = "github", ["Sources:acme:Secrets:0"] = "" });

        host.ValidateOnStart();
        Assert.NotNull(host.Resolver.Resolve("acme"));
    }
}
