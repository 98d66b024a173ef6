using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Hardening;

/// <summary>
/// A weak secret or read key, a secrets directory that is not there, or a management port that cannot be, stops the
/// service at start-up with a message naming the setting.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class StartupErrorTests(TestServices services)
{
    [Fact]
    public async Task A_five_character_E2B_secret_stops_Ingress_with_a_message_naming_the_key()
    {
        const string weak = "qZxWv";
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [],
            IngressEnvironment = { ["E2B_WEBHOOK_SECRET"] = weak },
        }));

        Assert.Matches(@"ingress exited with [1-9]\d*", failure.Message);
        Assert.Contains("E2B_WEBHOOK_SECRET", failure.Message);
        Assert.Contains("Providers:E2b:Secrets", failure.Message);
        Assert.Contains("shorter than 16 characters", failure.Message);
        Assert.DoesNotContain(weak, failure.Message);
    }

    [Fact]
    public async Task A_secrets_directory_that_does_not_exist_stops_Ingress_with_a_message_naming_the_setting()
    {
        var missing = Path.Combine(Path.GetTempPath(), "pipeline-no-such-dir-" + Guid.NewGuid().ToString("N"));
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [],
            IngressEnvironment = { ["PIPELINE_SECRETS_DIR"] = missing },
        }));

        Assert.Matches(@"ingress exited with [1-9]\d*", failure.Message);
        Assert.Contains("PIPELINE_SECRETS_DIR", failure.Message);
        Assert.Contains(missing, failure.Message);
    }

    [Fact]
    public async Task A_five_character_read_key_stops_a_consumer_with_a_message_naming_the_setting()
    {
        const string weak = "qZxWv";
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => PipelineTopology.StartAsync(services, new TopologyOptions
        {
            ConsumerEnvironment = { ["Api__ReadKeys__1"] = weak },
        }));

        Assert.Matches(@"sandboxes exited with [1-9]\d*", failure.Message);
        Assert.Contains("Api:ReadKeys", failure.Message);
        Assert.Contains("shorter than 16 characters", failure.Message);
        Assert.DoesNotContain(weak, failure.Message);
    }

    [Theory]
    [InlineData("70000")]
    [InlineData("0")]
    [InlineData("metrics")]
    public async Task A_management_port_that_cannot_be_stops_the_service_naming_the_setting(string port)
    {
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => PipelineTopology.StartAsync(services, new TopologyOptions
        {
            ConsumerEnvironment = { ["Management__Port"] = port },
        }));

        Assert.Matches(@"sandboxes exited with [1-9]\d*", failure.Message);
        Assert.Contains("Management:Port", failure.Message);
    }
}
