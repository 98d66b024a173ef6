using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Consumers.Deliveries.Events;
using Pipeline.Consumers.Deliveries.FanOut;
using Pipeline.Consumers.Deliveries.Ledger;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.Persistence;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.IntegrationTests.Deliveries;

/// <summary>
/// The per-endpoint statistics in a fixed number of statements, on PostgreSQL (the services) and SQLite (Standalone):
/// counts by state, the average and the 95th percentile of each endpoint's attempts in the window.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class DeliveryStatsTests(TestServices services)
{
    [Theory]
    [InlineData(DatabaseProvider.PostgreSql)]
    [InlineData(DatabaseProvider.Sqlite)]
    public async Task Every_endpoints_window_is_read_at_once_with_its_own_average_and_95th_percentile(DatabaseProvider provider)
    {
        await using var scratch = provider == DatabaseProvider.PostgreSql ? await ScratchDatabase.CreateAsync(services.Postgres, "dst") : null;
        var file = Path.Combine(Path.GetTempPath(), $"stats-{Guid.NewGuid():N}.db");
        var configuration = scratch?.Configuration("Deliveries") ?? new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Database:Provider"] = nameof(DatabaseProvider.Sqlite),
            ["ConnectionStrings:Deliveries"] = $"Data Source={file}",
        }).Build();
        await using var provided = DeliveryStoreTests.Services(configuration).AddScoped<DeliveryStats>().BuildServiceProvider();
        try
        {
            await provided.PrepareDatabaseAsync<DeliveriesDbContext>();
            var since = DateTime.UtcNow.AddHours(-1);
            Guid a, b, idle;
            await using (var scope = provided.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<DeliveriesDbContext>();
                var fanOut = scope.ServiceProvider.GetRequiredService<DeliveryFanOut>();
                (a, b, idle) = (Add(db, "a"), Add(db, "b"), Add(db, "idle"));
                await db.SaveChangesAsync();
                var endpoints = await db.Endpoints.ToDictionaryAsync(e => e.Id);
                // a: 20 deliveries with attempts of 1..20 ms, and one attempt from before the window; b: one of 7 ms.
                for (var i = 1; i <= 20; i++)
                {
                    var delivery = fanOut.Add(Event(), Guid.NewGuid(), [endpoints[a]]).Single();
                    db.Attempts.Add(Attempt(delivery, i, DateTime.UtcNow));
                    if (i == 1)
                    {
                        db.Attempts.Add(Attempt(delivery, 1000, DateTime.UtcNow.AddDays(-2)));
                    }
                }

                db.Attempts.Add(Attempt(fanOut.Add(Event(), Guid.NewGuid(), [endpoints[b]]).Single(), 7, DateTime.UtcNow));
                await db.SaveChangesAsync();
            }

            await using (var scope = provided.CreateAsyncScope())
            {
                var stats = scope.ServiceProvider.GetRequiredService<DeliveryStats>();
                var windows = await stats.WindowsAsync(since, CancellationToken.None);
                Assert.Equal(new WindowStats(20, 0, 0, 20, 0, 10.5, 19), windows[a]);
                Assert.Equal(new WindowStats(1, 0, 0, 1, 0, 7, 7), windows[b]);
                Assert.False(windows.ContainsKey(idle));
                var all = await stats.WindowAsync(since, CancellationToken.None);
                Assert.Equal((21, 19.0), (all.Total, all.P95Ms)); // rank 20 of 1..20 and 7
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            File.Delete(file);
        }
    }

    private static Guid Add(DeliveriesDbContext db, string name)
    {
        var endpoint = DeliveryStoreTests.NewEndpoint($"https://127.0.0.1/{name}");
        db.Endpoints.Add(endpoint);
        return endpoint.Id;
    }

    private static PublicEvent Event() =>
        new(PublicEvent.IdOf(Guid.CreateVersion7()), EventCatalogue.WebhookTest, BusEventMapper.PipelineSource, DateTimeOffset.UtcNow, new { });

    private static DeliveryAttempt Attempt(WebhookDelivery delivery, double ms, DateTime startedAt) => new()
    {
        Id = Guid.CreateVersion7(), DeliveryId = delivery.Id, EndpointId = delivery.EndpointId, Number = 1, StartedAt = startedAt, DurationMs = ms,
        StatusCode = 500, Succeeded = false,
    };
}
