using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Pipeline.Hosting.Telemetry;

namespace Pipeline.UnitTests.Observability;

public sealed class PeriodicMeasureRegistrationTests
{
    [Fact]
    public void Every_measure_over_the_same_service_runs_not_only_the_first()
    {
        var services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddPeriodicMeasure<string>("table rows", (_, _) => Task.CompletedTask);
        services.AddPeriodicMeasure<string>("active sandboxes", (_, _) => Task.CompletedTask);
        using var provider = services.BuildServiceProvider();

        Assert.Equal(2, provider.GetServices<IHostedService>().OfType<PeriodicMeasure<string>>().Count());
    }
}
