using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Pipeline.Hosting.Batching;
using Pipeline.Hosting.Outbox;
using Pipeline.Ingress.Receipts;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.Messages.Sandboxes;
using Pipeline.Persistence;
using Pipeline.Persistence.Ingress;

namespace Pipeline.IntegrationTests.Ingress;

/// <summary>
/// Ingress's receipt writer on a real PostgreSQL, the way Ingress registers it: concurrent deliveries share
/// commits, and each still gets its own answer (new, duplicate, or its own failure).
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class GroupCommitTests(TestServices services) : IAsyncLifetime
{
    // The dispatcher holds at most four claims' worth in memory: 20 rows here.
    private const int HandoffBatch = 5;

    private ScratchDatabase _database = null!;
    private ServiceProvider _provider = null!;

    private ReceiptWriter Writer => _provider.GetRequiredService<ReceiptWriter>();
    private OutboxSignal<IngressDbContext> Signal => _provider.GetRequiredService<OutboxSignal<IngressDbContext>>();

    public async Task InitializeAsync()
    {
        _database = await ScratchDatabase.CreateAsync(services.Postgres, "gc");
        _provider = _database.IngressServices()
            .AddSingleton<OutboxSignal<IngressDbContext>>()
            .Configure<OutboxOptions>(o => o.BatchSize = HandoffBatch)
            .AddGroupCommitOptions(ReceiptWriter.GroupCommitName, ReceiptWriter.GroupCommitSection)
            .AddSingleton<ReceiptWriter>()
            .BuildServiceProvider();
        await _provider.PrepareDatabaseAsync<IngressDbContext>();
    }

    public async Task DisposeAsync()
    {
        await _provider.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Concurrent_deliveries_share_commits_and_each_duplicate_is_answered_as_one()
    {
        var keys = Enumerable.Range(0, 300).Select(i => $"evt-{i}").ToList();
        var random = new Random(7);
        var sends = keys.Concat(Enumerable.Range(0, 150).Select(_ => keys[random.Next(keys.Count)])).OrderBy(_ => random.Next()).ToList();
        var batchesBefore = CommittedBatches();

        var outcomes = await Task.WhenAll(sends.Select(key => Task.Run(() => Writer.AcceptAsync(Webhook(key), CancellationToken.None))));

        Assert.Equal(300, outcomes.Count(o => o == AcceptOutcome.Accepted));
        Assert.Equal(150, outcomes.Count(o => o == AcceptOutcome.Duplicate));
        Assert.Equal((300, 300), await CountsAsync());
        // Shared commits: far fewer transactions than deliveries.
        Assert.InRange(CommittedBatches() - batchesBefore, 1, sends.Count / 3);
    }

    [Fact]
    public async Task Keys_recorded_by_an_earlier_commit_are_duplicates_and_the_rest_of_their_batch_is_written()
    {
        var earlier = Enumerable.Range(0, 40).Select(i => $"old-{i}").ToList();
        foreach (var key in earlier)
        {
            Assert.Equal(AcceptOutcome.Accepted, await Writer.AcceptAsync(Webhook(key), CancellationToken.None));
        }

        var sends = earlier.Concat(Enumerable.Range(0, 160).Select(i => $"new-{i}")).OrderBy(_ => Random.Shared.Next()).ToList();
        var outcomes = await Task.WhenAll(sends.Select(key => Task.Run(() => Writer.AcceptAsync(Webhook(key), CancellationToken.None))));

        for (var i = 0; i < sends.Count; i++)
        {
            Assert.Equal(sends[i].StartsWith("old-", StringComparison.Ordinal) ? AcceptOutcome.Duplicate : AcceptOutcome.Accepted, outcomes[i]);
        }

        Assert.Equal((200, 200), await CountsAsync());
    }

    [Fact]
    public async Task A_row_the_database_refuses_fails_only_its_own_delivery()
    {
        // A provider name longer than its column: the database refuses that row, and with it the batch holding it.
        var bad = Webhook("bad") with { Provider = new string('p', 65) };
        var good = Enumerable.Range(0, 120).Select(i => Webhook($"good-{i}")).ToList();
        var all = good.Take(60).Append(bad).Concat(good.Skip(60)).ToList();

        var tasks = all.Select(w => Task.Run(() => Writer.AcceptAsync(w, CancellationToken.None))).ToList();
        var failure = await Assert.ThrowsAsync<PostgresException>(() => tasks[60]);

        Assert.Equal(PostgresErrorCodes.StringDataRightTruncation, failure.SqlState); // value too long
        Assert.All(tasks.Where((_, i) => i != 60), t => Assert.Equal(AcceptOutcome.Accepted, t.Result));
        Assert.Equal((120, 120), await CountsAsync());
    }

    [Fact]
    public async Task Committed_rows_are_handed_to_the_dispatcher_leased_until_it_holds_enough_then_left_to_a_claim()
    {
        var signal = Signal;
        var capacity = HandoffBatch * 4;
        var before = DateTime.UtcNow;
        foreach (var i in Enumerable.Range(0, capacity + 10))
        {
            Assert.Equal(AcceptOutcome.Accepted, await Writer.AcceptAsync(Webhook($"hand-{i}"), CancellationToken.None));
        }

        Assert.Equal(AcceptOutcome.Duplicate, await Writer.AcceptAsync(Webhook("hand-0"), CancellationToken.None));

        // The first 20 were committed leased to this process's dispatcher and handed over; the duplicate's row was not written.
        var handed = signal.TakeHanded(100);
        Assert.Equal(capacity, handed.Count);
        await using var scope = _provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
        var rows = await db.Outbox.AsNoTracking().ToDictionaryAsync(o => o.Id);
        Assert.Equal(capacity + 10, rows.Count);
        Assert.All(handed, row =>
        {
            Assert.Equal(signal.Owner, rows[row.Id].LockedBy);
            Assert.InRange(rows[row.Id].LockedUntil!.Value, before + TimeSpan.FromSeconds(59), DateTime.UtcNow + TimeSpan.FromSeconds(61));
        });

        // The 10 beyond the dispatcher's room were written unleased, and a claim was requested for them.
        Assert.True(signal.TakeClaimRequest());
        Assert.False(signal.TakeClaimRequest());
        var store = new OutboxStore<IngressDbContext>(db);
        var claimed = await store.ClaimAsync(100, TimeSpan.FromMinutes(1), "claimer", CancellationToken.None);
        Assert.Equal(rows.Keys.Except(handed.Select(r => r.Id)).Order(), claimed.Select(r => r.Id).Order());

        // Rows taken from memory make room again; leases given back (a stop) make the rows claimable at once.
        Assert.Equal(AcceptOutcome.Accepted, await Writer.AcceptAsync(Webhook("hand-again"), CancellationToken.None));
        Assert.Single(signal.TakeHanded(100));
        await store.ReleaseAsync(handed.ConvertAll(r => r.Id), CancellationToken.None);
        var reclaimed = await store.ClaimAsync(100, TimeSpan.FromMinutes(1), "claimer", CancellationToken.None);
        Assert.Equal(handed.Select(r => r.Id).Order(), reclaimed.Select(r => r.Id).Order());
    }

    private static IncomingWebhook Webhook(string key)
    {
        var receiptId = Guid.CreateVersion7();
        var now = DateTime.UtcNow;
        var message = new SandboxLifecycleEventV1
        {
            EventId = key, SandboxId = "sbx-" + key, Label = SandboxLabels.Create, EventType = "sandbox.lifecycle.created",
            OccurredAt = now, ReceiptId = receiptId, SourceFormat = "v2",
        };
        return new IncomingWebhook(receiptId, "e2b", key, now, "{}", "{}"u8.ToArray(), [OutboxRegistration.Row(message, receiptId, now)]);
    }

    private async Task<(int Receipts, int Outbox)> CountsAsync()
    {
        await using var scope = _provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
        return (await db.Receipts.CountAsync(), await db.Outbox.CountAsync());
    }

    private static long CommittedBatches() =>
        (long)GroupCommitMetrics.BatchSize.WithLabels(ReceiptWriter.GroupCommitName).Count;
}
