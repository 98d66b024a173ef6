using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Consumers.Credits;
using Pipeline.Hosting;

namespace Pipeline.UnitTests.Credits;

public class CreditsAdminKeyTests
{
    private const string Key = "admin-key-for-this-test-0123456789";

    private static HttpRequest Request(string? authorization, params string[] keys)
    {
        var services = new ServiceCollection();
        services.AddOptions<CreditsOptions>().Configure(o => o.AdminApiKeys = [.. keys]);
        services.AddLogging();
        services.AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        services.AddAdminAttemptLimit();
        var context = new DefaultHttpContext { RequestServices = services.BuildServiceProvider() };
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }

        return context.Request;
    }

    private static int? Status(IResult? result) => (result as IStatusCodeHttpResult)?.StatusCode;

    [Fact]
    public void The_right_key_passes()
    {
        Assert.Null(CreditsAdminKey.Check(Request("Bearer " + Key, Key)));
    }

    [Fact]
    public void Scheme_is_case_insensitive_and_spaces_are_trimmed()
    {
        Assert.Null(CreditsAdminKey.Check(Request("bearer   " + Key + " ", Key)));
    }

    [Fact]
    public void Any_configured_key_passes_for_rotation()
    {
        Assert.Null(CreditsAdminKey.Check(Request("Bearer " + Key, "the-previous-admin-key-0123", Key)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer ")]
    [InlineData("Bearer wrong-admin-key-0123456789")]
    [InlineData("Basic " + Key)]
    [InlineData(Key)]
    public void A_missing_or_wrong_key_is_401(string? authorization)
    {
        Assert.Equal(StatusCodes.Status401Unauthorized, Status(CreditsAdminKey.Check(Request(authorization, Key))));
    }

    [Fact]
    public void A_prefix_of_the_key_is_401()
    {
        Assert.Equal(StatusCodes.Status401Unauthorized, Status(CreditsAdminKey.Check(Request("Bearer " + Key[..^1], Key))));
    }

    [Fact]
    public void No_key_configured_is_503_even_with_a_header()
    {
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, Status(CreditsAdminKey.Check(Request("Bearer " + Key))));
    }
}
