using System.Net;
using System.Security.Cryptography;
using Pipeline.IntegrationTests.Credits;
using Pipeline.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Faults;

/// <summary>
/// A new deployment whose Credits service starts after Ingress and Deliveries: Deliveries' queue takes every contract,
/// so the mandatory publish alone would have the broker confirm usage that no Credits queue holds, and lose it. Ingress
/// keeps it in the outbox until Credits' queue exists, then Credits deducts it once.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ConsumerQueueTests(TestServices services, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Usage_accepted_before_Credits_ever_started_waits_in_the_outbox_and_is_deducted_once_it_starts()
    {
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var adminKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [ConsumerService.Deliveries],
            IngressEnvironment = { ["NEWAPI_WEBHOOK_SECRET"] = secret, ["Outbox__WaitForConsumerQueues"] = "true" },
            ConsumerEnvironment = { ["ADMIN_API_KEY"] = adminKey },
        });

        var requestId = "req-" + Guid.NewGuid().ToString("N");
        using (var response = await pipeline.IngressHttp.SendAsync(NewApiEvents.SignedRequest(NewApiEvents.Consume(requestId, "acct-early", 1_000_000), secret)))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Tried and held back, not confirmed by way of Deliveries' queue alone.
        await Eventually.WaitAsync(
            () => pipeline.CountAsync("""SELECT count(*) FROM ingress_outbox WHERE "Attempts" >= 2 AND "LastError" LIKE 'queue credits-usage does not exist yet%'"""),
            n => n == 1, Deadline, "the usage row to wait for credits-usage", pipeline.Diagnostics);
        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM ingress_outbox"));

        var credits = new HostProcess(ConsumerService.Credits.Name, ConsumerService.Credits.Project, ConsumerService.Credits.Assembly,
            pipeline.Environment(services.RabbitMq.Port, ConsumerService.Credits.ConnectionName, new Dictionary<string, string> { ["ADMIN_API_KEY"] = adminKey }));
        pipeline.Consumers[ConsumerService.Credits] = credits;
        await credits.StartAsync();

        await Eventually.WaitAsync(
            () => pipeline.CountAsync($"""SELECT count(*) FROM credits_ledger WHERE "Kind" = 'deduction' AND "Reference" = '{requestId}' AND "UserId" = 'acct-early'""", "Credits"),
            n => n == 1, Deadline, "Credits to deduct the usage accepted before it started", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.CountAsync("SELECT count(*) FROM ingress_outbox"), n => n == 0, Deadline,
            "the Ingress outbox to be empty", pipeline.Diagnostics);
        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM credits_ledger", "Credits"));
        output.WriteLine($"usage {requestId} held in the outbox until credits-usage existed, then deducted once");
    }
}
