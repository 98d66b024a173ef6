using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Hardening;

/// <summary>A weak secret, or a secrets directory that is not there, stops Ingress at start-up with a message naming the setting.</summary>
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
}
