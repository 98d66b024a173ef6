using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Hosting.Outbox;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.Persistence;
using Pipeline.Persistence.Ingress;
using Pipeline.Persistence.Outbox;

namespace Pipeline.IntegrationTests.Ingress;

/// <summary>
/// The dispatcher's claim on a real PostgreSQL: replicas claiming at once never take the same row, each claim is the
/// oldest pending rows in order, and a row comes back only once its lease has lapsed and it is still unsent.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class OutboxClaimTests(TestServices services) : IAsyncLifetime
{
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private ScratchDatabase _database = null!;
    private ServiceProvider _provider = null!;

    public async Task InitializeAsync()
    {
        _database = await ScratchDatabase.CreateAsync(services.Postgres, "claim");
        _provider = _database.IngressServices()
            .AddScoped<OutboxStore<IngressDbContext>>()
            .BuildServiceProvider();
        await _provider.PrepareDatabaseAsync<IngressDbContext>();
    }

    public async Task DisposeAsync()
    {
        await _provider.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Replicas_claiming_at_once_take_each_row_once_oldest_first()
    {
        var rows = await AddRowsAsync(600);

        var first = await ClaimAsync(25, "first");
        Assert.Equal(rows.Take(25), first.Select(r => r.Id));

        // Four replicas claim until nothing is left; each claim comes back oldest first.
        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(replica => Task.Run(async () =>
        {
            var taken = new List<List<OutboxMessage>>();
            while (await ClaimAsync(20, $"replica-{replica}") is { Count: > 0 } claim)
            {
                taken.Add(claim);
            }

            return taken;
        })));

        var all = claims.SelectMany(c => c).ToList();
        Assert.All(all, claim => Assert.Equal(claim.OrderBy(r => r.CreatedAt).Select(r => r.Id), claim.Select(r => r.Id)));
        var ids = all.SelectMany(c => c).Select(r => r.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(rows.Skip(25).Order(), ids.Order());
        Assert.True(claims.Count(c => c.Count > 0) > 1, "the replicas shared the rows");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_leased_row_comes_back_only_when_its_lease_has_lapsed_and_it_is_unsent(bool keepSent)
    {
        var rows = await AddRowsAsync(30);
        var claimed = await ClaimAsync(30, "dispatcher");
        Assert.Equal(rows, claimed.Select(r => r.Id));
        Assert.Empty(await ClaimAsync(30, "other"));

        await using (var scope = _provider.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<OutboxStore<IngressDbContext>>().CompleteAsync(rows.Take(10).ToList(), keepSent, CancellationToken.None);
            var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
            // Kept: marked sent; not kept: gone.
            Assert.Equal(keepSent ? 30 : 20, await db.Outbox.CountAsync());
            Assert.Equal(keepSent ? 10 : 0, await db.Outbox.CountAsync(o => o.SentAt != null));
            await db.Outbox.ExecuteUpdateAsync(s => s.SetProperty(o => o.LockedUntil, DateTime.UtcNow.AddSeconds(-1)));
        }

        var again = await ClaimAsync(30, "other");
        Assert.Equal(rows.Skip(10), again.Select(r => r.Id));
        Assert.All(again, r => Assert.StartsWith("other/", r.LockedBy, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_claim_prepared_before_a_migration_added_a_column_still_claims()
    {
        // Npgsql prepares a statement after its fifth run on a connection; one connection, so that it is that one.
        await using var scope = _provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
        var store = scope.ServiceProvider.GetRequiredService<OutboxStore<IngressDbContext>>();
        await db.Database.OpenConnectionAsync();
        for (var i = 0; i < 6; i++)
        {
            Assert.Empty(await store.ClaimAsync(10, Lease, "before", CancellationToken.None));
        }

        // What a newer version's migration could do while this one runs (a rolling upgrade).
        await db.Database.ExecuteSqlRawAsync("ALTER TABLE ingress_outbox ADD COLUMN \"Added\" text");
        var rows = await AddRowsAsync(3);

        var claimed = await store.ClaimAsync(10, Lease, "after", CancellationToken.None);

        Assert.Equal(rows, claimed.Select(r => r.Id));
        await db.Database.CloseConnectionAsync();
    }

    private async Task<List<Guid>> AddRowsAsync(int count)
    {
        await using var scope = _provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
        var start = DateTime.UtcNow.AddMinutes(-10);
        var rows = Enumerable.Range(0, count).Select(i => new OutboxMessage
        {
            Id = Guid.NewGuid(), MessageType = "Test", Body = "{}", CreatedAt = start.AddMilliseconds(i),
        }).ToList();

        // Inserted out of order: the claim follows CreatedAt, not the order of insertion.
        db.Outbox.AddRange(rows.OrderBy(_ => Random.Shared.Next()));
        await db.SaveChangesAsync();
        return rows.Select(r => r.Id).ToList();
    }

    private async Task<List<OutboxMessage>> ClaimAsync(int batchSize, string owner)
    {
        await using var scope = _provider.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<OutboxStore<IngressDbContext>>()
            .ClaimAsync(batchSize, Lease, owner, CancellationToken.None);
    }
}
