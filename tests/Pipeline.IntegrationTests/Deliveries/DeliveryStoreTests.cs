using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Consumers.Deliveries;
using Pipeline.Consumers.Deliveries.Events;
using Pipeline.Consumers.Deliveries.FanOut;
using Pipeline.Consumers.Deliveries.Sending;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.Persistence;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.IntegrationTests.Deliveries;

/// <summary>
/// The delivery store's set-based writes on a real PostgreSQL: deliveries inserted after their events in the fan-out's
/// transaction, and a batch of attempts recorded while one of its claims was taken over by another sender.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class DeliveryStoreTests(TestServices services) : IAsyncLifetime
{
    private ScratchDatabase _database = null!;
    private ServiceProvider _provider = null!;

    public async Task InitializeAsync()
    {
        _database = await ScratchDatabase.CreateAsync(services.Postgres, "ds");
        _provider = Services(_database.Configuration("Deliveries")).BuildServiceProvider();
        await _provider.PrepareDatabaseAsync<DeliveriesDbContext>();
    }

    /// <summary>The Deliveries service's database context and stores on the database <paramref name="configuration"/> names.</summary>
    internal static IServiceCollection Services(IConfiguration configuration)
    {
        var collection = new ServiceCollection()
            .AddSingleton(configuration)
            .AddLogging()
            .AddPipelineDbContext<DeliveriesDbContext, SqliteDeliveriesDbContext, PostgreSqlDeliveriesDbContext, SqlServerDeliveriesDbContext>(
                configuration, "Deliveries", DeliveriesDbContext.MigrationsHistoryTable)
            .AddSingleton<DeliveryHandoff>()
            .AddScoped<DeliveryFanOut>()
            .AddScoped<DeliveryStore>();
        collection.AddOptions<DeliveriesOptions>();
        return collection;
    }

    internal static WebhookEndpoint NewEndpoint(string url) => new()
    {
        Id = Guid.CreateVersion7(), Url = url, EventTypes = "[\"*\"]", Scheme = "standard-webhooks", Enabled = true,
        Secret = "whsec_" + Convert.ToBase64String(Guid.NewGuid().ToByteArray()), CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow,
    };

    public async Task DisposeAsync()
    {
        await _provider.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Attempts_are_recorded_only_for_the_claims_still_held_and_the_others_are_reported_lost()
    {
        var endpoint = await AddEndpointAsync();
        var claimed = await FanOutClaimedAsync(endpoint, count: 3);
        // Another sender took the second delivery over after this one's lease ran out.
        await using (var scope = _provider.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DeliveriesDbContext>();
            Assert.Equal(1, await db.Deliveries.Where(d => d.Id == claimed[1].Id)
                .ExecuteUpdateAsync(s => s.SetProperty(d => d.LockedBy, "elsewhere/token")));
        }

        var batch = claimed.Select(c => Succeeded(c)).ToList();
        RecordOutcome outcome;
        await using (var scope = _provider.CreateAsyncScope())
        {
            outcome = await scope.ServiceProvider.GetRequiredService<DeliveryStore>().RecordAsync(batch, TimeSpan.FromDays(5), CancellationToken.None);
        }

        Assert.Equal(claimed[1].Id, Assert.Single(outcome.Lost));
        await using (var scope = _provider.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<DeliveriesDbContext>();
            var rows = await db.Deliveries.AsNoTracking().ToDictionaryAsync(d => d.Id);
            foreach (var recorded in new[] { claimed[0], claimed[2] })
            {
                var row = rows[recorded.Id];
                Assert.Equal((DeliveryStatuses.Delivered, 1, null, 200), (row.Status, row.Attempts, row.LockedBy, row.LastStatusCode));
                Assert.NotNull(row.DeliveredAt);
            }

            var taken = rows[claimed[1].Id];
            Assert.Equal((DeliveryStatuses.Pending, 0, "elsewhere/token"), (taken.Status, taken.Attempts, taken.LockedBy));
            var attempts = await db.Attempts.AsNoTracking().ToListAsync();
            Assert.Equal(new[] { claimed[0].Id, claimed[2].Id }.Order(), attempts.Select(a => a.DeliveryId).Order());
            Assert.All(attempts, a => Assert.Equal((1, 200, true, "ok"), (a.Number, a.StatusCode, a.Succeeded, a.ResponseBody)));
        }
    }

    /// <summary>One fan-out of <paramref name="count"/> events, the way the fan-out writer commits it; returns what its lane got.</summary>
    private async Task<List<ClaimedDelivery>> FanOutClaimedAsync(WebhookEndpoint endpoint, int count)
    {
        var handoff = _provider.GetRequiredService<DeliveryHandoff>();
        handoff.Open(endpoint.Id, count);
        await using var scope = _provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DeliveriesDbContext>();
        var fanOut = scope.ServiceProvider.GetRequiredService<DeliveryFanOut>();
        await using var transaction = await db.Database.BeginTransactionAsync();
        var deliveries = new List<WebhookDelivery>();
        var handoffs = new List<DeliveryFanOut.Handoff>();
        for (var i = 0; i < count; i++)
        {
            var e = new PublicEvent(PublicEvent.IdOf(Guid.CreateVersion7()), EventCatalogue.WebhookTest, BusEventMapper.PipelineSource,
                DateTimeOffset.UtcNow, new { n = i });
            var (added, h) = fanOut.AddClaimed(e, Guid.NewGuid(), [endpoint]);
            deliveries.AddRange(added);
            handoffs.Add(h);
        }

        await db.SaveChangesAsync(); // the events
        await fanOut.WriteAsync(deliveries, CancellationToken.None);
        await transaction.CommitAsync();
        handoffs.ForEach(h => h.Commit());
        var claimed = new List<ClaimedDelivery>();
        while (handoff.TryTake(endpoint.Id, out var delivery))
        {
            claimed.Add(delivery);
        }

        Assert.Equal(count, claimed.Count);
        Assert.Equal(count, await db.Deliveries.CountAsync(d => d.LockedBy != null)); // written claimed
        return claimed;
    }

    private static PendingRecord Succeeded(ClaimedDelivery delivery)
    {
        var result = new SendResult(DateTime.UtcNow, TimeSpan.FromMilliseconds(3), 200, "ok", null, null, SendOutcomes.Success);
        return new PendingRecord(delivery, DeliveryWorker.Decide(delivery, result, new DeliveriesOptions()), result);
    }

    private async Task<WebhookEndpoint> AddEndpointAsync()
    {
        await using var scope = _provider.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DeliveriesDbContext>();
        var endpoint = NewEndpoint("https://127.0.0.1/hooks");
        db.Endpoints.Add(endpoint);
        await db.SaveChangesAsync();
        return endpoint;
    }
}
