using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Deliveries;

/// <summary>A bad <c>Deliveries</c> setting stops the service at start-up with a message naming it.</summary>
[Collection(PipelineCollection.Name)]
public sealed class DeliveriesStartupTests(TestServices services)
{
    [Fact]
    public async Task A_lease_shorter_than_an_attempt_stops_the_service_naming_both_settings()
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [ConsumerService.Deliveries],
            ConsumerEnvironment = { ["Deliveries__Lease"] = "00:00:20", ["Deliveries__Timeout"] = "00:00:30" },
        }));

        Assert.Matches(@"deliveries exited with [1-9]\d*", failure.Message);
        Assert.Contains("Deliveries:Lease (00:00:20) must be at least Deliveries:Timeout (00:00:30) plus 10 seconds.", failure.Message);
    }
}
