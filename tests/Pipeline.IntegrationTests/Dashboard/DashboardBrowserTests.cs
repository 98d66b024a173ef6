using System.Net;
using System.Security.Cryptography;
using Pipeline.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Dashboard;

/// <summary>
/// The operator's dashboard in a real browser against a real topology: the key prompt, a fresh receipt, a database
/// outage's dead letters replayed with the page's own buttons, and the broker going away.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class DashboardBrowserTests(TestServices services, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private const string ErrorQueue = "sandboxes-lifecycle_error";

    [Fact]
    public async Task An_operator_sees_receipts_and_dead_letters_and_replays_them_from_the_page()
    {
        var adminKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            SeparateDatabases = true,
            // Published outbox rows are kept (marked sent): the test reads a message id from them.
            IngressEnvironment = { ["ADMIN_API_KEY"] = adminKey, ["Outbox__RetainSent"] = "01:00:00" },
        });
        await using var page = await DashboardBrowser.OpenAsync(new Uri(pipeline.Ingress.BaseAddress, "dashboard"));

        // A wrong key is refused on the page; the right one opens it.
        await page.LoginAsync("not-the-admin-key-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)));
        await page.WaitForAsync("#banner", "admin key was refused");
        await page.WaitForAsync("#login");
        await page.LoginAsync(adminKey);
        await page.WaitForAsync("#receipts tbody tr", "No receipts yet");

        // A just-sent event shows up among the recent receipts, published, without reloading the page.
        var eventId = Guid.NewGuid().ToString();
        Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-dash-live", DateTime.UtcNow, eventId))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-forged", DateTime.UtcNow), secret: "forged-secret-0123456789")).StatusCode);
        var receiptId = await pipeline.ScalarAsync<Guid>($"""SELECT "Id" FROM ingress_receipts WHERE "DedupKey" LIKE '%{eventId}%'""");
        var receipt = await page.WaitForAsync($"#receipts tr[data-receipt-id=\"{receiptId}\"]", "published");
        Assert.Contains("e2b", receipt);
        var traffic = await page.WaitForAsync("#traffic tr[data-provider=\"e2b\"]", "401×1");
        output.WriteLine($"traffic row: {traffic}");
        Assert.StartsWith("e2b\t1\t1 (401×1)", traffic);
        await page.WaitForAsync("#outbox-pending", "0", exact: true);
        await page.ScreenshotAsync("1-receipts");

        // The Sandboxes database goes away (once the live event is applied, so that it is not among the dead letters):
        // its messages exhaust their retries and the page lists the dead letters.
        await Eventually.WaitAsync(() => pipeline.GetSandboxAsync("sbx-dash-live"), s => s is not null, Deadline, "the live event applied", pipeline.Diagnostics);
        const int events = 4;
        await pipeline.SetDatabaseAvailableAsync("Sandboxes", available: false);
        for (var i = 0; i < events; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.V2("create", $"sbx-dash-{i}", DateTime.UtcNow))).StatusCode);
        }

        await Eventually.WaitAsync(() => pipeline.QueueDepthAsync(ErrorQueue), d => d.Ready == events, Deadline,
            $"{events} dead letters", pipeline.Diagnostics);
        await page.WaitForAsync($"#dead-letter-queues tr[data-queue=\"{ErrorQueue}\"] td.num", $"{events}", exact: true);

        // The page polls counts only: no letter has been read, until the operator opens the queue.
        Assert.Equal(0, await page.CountAsync("#dead-letter-messages tr[data-message-id]"));
        var untouched = await Faults.Broker.PeekRedeliveredAsync(services, pipeline, ErrorQueue, events);
        Assert.Equal(events, untouched.Count);
        Assert.DoesNotContain(true, untouched);
        await page.ClickAsync($"#dead-letter-queues button[data-open-queue=\"{ErrorQueue}\"]");
        await page.WaitForAsync("#dead-letter-groups", "SandboxLifecycleEventV1");
        await Eventually.WaitAsync(() => page.CountAsync("#dead-letter-messages tr[data-message-id]"), n => n == events, Deadline, "the opened queue's letters");
        var letter = await page.WaitForAsync("#dead-letter-messages tr[data-message-id]");
        Assert.Contains("Pipeline.Messages.Sandboxes:SandboxLifecycleEventV1", letter);
        await page.ScreenshotAsync("2-dead-letters");

        // The database returns; one message is replayed on its own, then the rest of the queue.
        await pipeline.SetDatabaseAvailableAsync("Sandboxes", available: true);
        var first = (await pipeline.ScalarAsync<Guid>(
            """SELECT "Id" FROM ingress_outbox WHERE "Body" LIKE '%sbx-dash-0%' LIMIT 1""")).ToString();
        await page.ClickAsync($"#dead-letter-messages button[data-replay-message=\"{first}\"]");
        await page.WaitForAsync("#replay-result.done", "Replayed 1 of 1");
        await page.WaitGoneAsync($"#dead-letter-messages tr[data-message-id=\"{first}\"]");
        await Eventually.WaitAsync(async () => await pipeline.CountAsync("SELECT count(*) FROM sandboxes WHERE \"SandboxId\" = 'sbx-dash-0'", "Sandboxes"),
            n => n == 1, Deadline, "the single replayed event applied", pipeline.Diagnostics);

        await page.ClickAsync($"#dead-letter-queues button[data-replay-queue=\"{ErrorQueue}\"]");
        await page.WaitForAsync("#replay-result.done", $"Replayed {events - 1} of {events - 1}");
        await page.WaitGoneAsync("#dead-letter-messages tr[data-message-id]");
        await page.WaitForAsync("#dead-letter-queues tbody", "No dead letters");
        await Eventually.WaitAsync(async () => await pipeline.CountAsync("SELECT count(*) FROM sandboxes", "Sandboxes"),
            n => n == events + 1, Deadline, "every replayed event applied", pipeline.Diagnostics);
        Assert.Equal(events + 1, await pipeline.CountAsync("""SELECT sum("EventCount") FROM sandboxes""", "Sandboxes"));
        await Eventually.WaitAsync(() => pipeline.QueueDepthAsync(ErrorQueue), d => d == (0, 0), Deadline, "no dead letters left");
        await page.ScreenshotAsync("3-replayed");

        // The broker goes away: the dead-letter panel says so, while Ingress still accepts webhooks and the page shows
        // them pending in the outbox; when the broker returns they are published.
        pipeline.BrokerProxy.Cut();
        Guid waiting;
        try
        {
            var waitingId = Guid.NewGuid().ToString();
            Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-dash-waiting", DateTime.UtcNow, waitingId))).StatusCode);
            waiting = await pipeline.ScalarAsync<Guid>($"""SELECT "Id" FROM ingress_receipts WHERE "DedupKey" LIKE '%{waitingId}%'""");
            await page.WaitForAsync("#dead-letters .error", "Broker unavailable");
            await page.WaitForAsync($"#receipts tr[data-receipt-id=\"{waiting}\"]", "pending");
            await page.WaitForAsync("#outbox-pending", "1", exact: true);
            await page.ScreenshotAsync("4-broker-unavailable");
        }
        finally
        {
            pipeline.BrokerProxy.Restore();
        }

        await page.WaitForAsync($"#receipts tr[data-receipt-id=\"{waiting}\"]", "published", Deadline);
        await page.WaitForAsync("#dead-letter-queues tbody", "No dead letters");
        await page.WaitForAsync("#outbox-oldest", "none");
        var (pageErrors, offOrigin) = await page.ProblemsAsync();
        Assert.Empty(pageErrors);
        Assert.Empty(offOrigin);
        output.WriteLine($"screenshots in {DashboardBrowser.OutputDirectory}");
    }
}
