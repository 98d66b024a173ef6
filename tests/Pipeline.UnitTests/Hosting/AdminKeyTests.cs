using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Hosting;

namespace Pipeline.UnitTests.Hosting;

public class AdminKeyTests
{
    private const string Key = "admin-key-for-this-test-0123456789";

    private static IServiceProvider Services(int failedAttemptsPerMinute)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<Microsoft.Extensions.Configuration.IConfiguration>(new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build());
        services.AddOptions<AdminAttemptOptions>().Configure(o => o.FailedAttemptsPerMinute = failedAttemptsPerMinute);
        services.AddAdminAttemptLimit();
        return services.BuildServiceProvider();
    }

    private static HttpContext Request(IServiceProvider services, string address, string? key)
    {
        var context = new DefaultHttpContext { RequestServices = services };
        context.Connection.RemoteIpAddress = IPAddress.Parse(address);
        if (key is not null)
        {
            context.Request.Headers.Authorization = "Bearer " + key;
        }

        return context;
    }

    private static int? Status(IResult? result) => (result as IStatusCodeHttpResult)?.StatusCode;

    [Fact]
    public void An_address_past_its_failed_attempts_is_refused_even_with_the_right_key_while_others_go_on()
    {
        var services = Services(failedAttemptsPerMinute: 3);
        const string guesser = "203.0.113.50";
        var operatorAddress = Enumerable.Range(1, 255).Select(i => $"198.51.100.{i}")
            .First(a => ClientAddressLimiter.BucketOf(IPAddress.Parse(a)) != ClientAddressLimiter.BucketOf(IPAddress.Parse(guesser)));

        Assert.Null(AdminKey.Check(Request(services, guesser, Key), [Key]));
        Assert.Equal(StatusCodes.Status401Unauthorized, Status(AdminKey.Check(Request(services, guesser, null), [Key])));
        Assert.All(Enumerable.Range(0, 2), i =>
            Assert.Equal(StatusCodes.Status401Unauthorized, Status(AdminKey.Check(Request(services, guesser, $"guess-{i}-0123456789"), [Key]))));

        var throttled = Request(services, guesser, Key);
        Assert.Equal(StatusCodes.Status429TooManyRequests, Status(AdminKey.Check(throttled, [Key])));
        Assert.False(string.IsNullOrEmpty(throttled.Response.Headers.RetryAfter));
        Assert.Null(AdminKey.Check(Request(services, operatorAddress, Key), [Key]));
    }
}
