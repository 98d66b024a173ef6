using System.Net;
using System.Security.Cryptography;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Hardening;

/// <summary>A sender's id with a newline in it cannot write a line of its own into a service's text log.</summary>
[Collection(PipelineCollection.Name)]
public sealed class LogInjectionTests(TestServices services)
{
    [Fact]
    public async Task A_newline_in_a_sandbox_id_is_escaped_in_Ingress_and_Sandboxes_logs()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services);
        var marker = "FORGED" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6));
        var forgedLine = $"[12:00:00.000 INF] Pipeline.Admin: {marker} admin key accepted";
        var sandboxId = $"sbx-inject\n{forgedLine}";

        var response = await pipeline.PostE2bAsync(E2bEvents.V2("create", sandboxId, DateTime.UtcNow));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Eventually.WaitAsync(() => Task.FromResult(pipeline.Sandboxes.FullOutput().Contains(marker, StringComparison.Ordinal)),
            TimeSpan.FromSeconds(60), "the Sandboxes service to log the event", pipeline.Diagnostics);

        foreach (var output in new[] { pipeline.Ingress.FullOutput(), pipeline.Sandboxes.FullOutput() })
        {
            Assert.Contains(@"sbx-inject\n[12:00:00.000 INF] Pipeline.Admin: " + marker, output);
            Assert.DoesNotContain(output.Split('\n'), line => line.TrimStart().StartsWith(forgedLine, StringComparison.Ordinal));
        }
    }
}
