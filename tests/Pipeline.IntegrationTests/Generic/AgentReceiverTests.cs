using System.Net;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Generic;

/// <summary>What the agent platform's own receiver (seed 004) answers besides webhooks.</summary>
[Collection(PipelineCollection.Name)]
public sealed class AgentReceiverTests(TestServices services)
{
    [Fact]
    public async Task Webhooks_health_answers_as_the_seed_receiver_does_without_a_key()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions { Consumers = [] });
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

        using var response = await pipeline.IngressHttp.GetAsync("webhooks/health");
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("healthy", json.GetProperty("status").GetString());
        var timestamp = json.GetProperty("timestamp").GetDouble(); // Unix seconds with a fraction, as Python's time.time()
        Assert.InRange(timestamp, before - 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 + 1);
    }
}
