using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.Persistence;
using Pipeline.Persistence.Credits;
using Pipeline.Persistence.Ingress;
using Pipeline.Persistence.Rooms;
using Pipeline.Persistence.Sandboxes;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Deployment;

/// <summary>
/// The first roll-out of the Kubernetes manifests starts every replica of every service at the same moment against
/// one database that nobody has migrated yet. All of them must come up: per service one replica applies the
/// migrations while the others wait for it, then find nothing left to apply.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ReplicaStartupTests(TestServices services, ITestOutputHelper output)
{
    private const int ReplicasPerService = 3;

    private sealed record Service(string Name, string Project, string Assembly, string ConnectionName, string Context, string HistoryTable,
        Func<DbContext> DesignTimeContext);

    private static readonly Service[] AllServices =
    [
        new("ingress", "Ingress", "Pipeline.Ingress", "Ingress", nameof(IngressDbContext), IngressDbContext.MigrationsHistoryTable,
            () => new PostgreSqlIngressFactory().CreateDbContext([])),
        new("sandboxes", "Consumers/Sandboxes", "Pipeline.Consumers.Sandboxes", "Sandboxes", nameof(SandboxesDbContext),
            SandboxesDbContext.MigrationsHistoryTable, () => new PostgreSqlSandboxesFactory().CreateDbContext([])),
        new("credits", "Consumers/Credits", "Pipeline.Consumers.Credits", "Credits", nameof(CreditsDbContext),
            CreditsDbContext.MigrationsHistoryTable, () => new PostgreSqlCreditsFactory().CreateDbContext([])),
        new("rooms", "Consumers/Rooms", "Pipeline.Consumers.Rooms", "Rooms", nameof(RoomsDbContext), RoomsDbContext.MigrationsHistoryTable,
            () => new PostgreSqlRoomsFactory().CreateDbContext([])),
    ];

    [Fact]
    public async Task Three_replicas_of_every_service_started_at_once_on_a_database_that_does_not_exist_yet_all_come_up()
    {
        await using var topology = await PipelineTopology.StartAsync(services, new TopologyOptions { Consumers = [], StartIngress = false });
        // A database that does not exist yet: the replicas race to create it first, then to migrate it.
        var database = new NpgsqlConnectionStringBuilder(topology.Database) { Database = topology.Name + "_fresh" }.ConnectionString;
        var replicas = AllServices
            .SelectMany(service => Enumerable.Range(1, ReplicasPerService).Select(i => (Service: service, Host: new HostProcess(
                $"{service.Name}-{i}", service.Project, service.Assembly,
                topology.Environment(services.RabbitMq.Port, service.ConnectionName,
                    new Dictionary<string, string> { [$"ConnectionStrings__{service.ConnectionName}"] = database })))))
            .ToList();
        try
        {
            var clock = Stopwatch.StartNew();
            var starts = replicas.Select(r => r.Host.StartAsync(TimeSpan.FromMinutes(10))).ToList();
            try
            {
                await Task.WhenAll(starts);
            }
            catch
            {
                var failures = starts.Where(s => s.IsFaulted).Select(s => s.Exception!.InnerException!.Message).ToList();
                Assert.Fail($"{failures.Count} of {replicas.Count} replicas did not come up:{Environment.NewLine}" +
                            string.Join(Environment.NewLine + Environment.NewLine, failures));
            }

            output.WriteLine($"{replicas.Count} replicas ({ReplicasPerService} of each of {AllServices.Length} services) up in {clock.Elapsed.TotalSeconds:0.0} s");

            foreach (var service in AllServices)
            {
                using var context = service.DesignTimeContext();
                var expected = context.Database.GetMigrations().ToList();
                var applied = await HistoryAsync(database, service.HistoryTable);
                Assert.Equal(expected, applied);

                var ofService = replicas.Where(r => r.Service == service).Select(r => r.Host).ToList();
                Assert.All(ofService, host => Assert.True(host.IsRunning, $"{service.Name} stopped after coming up:{Environment.NewLine}{host.RecentOutput()}"));
                // The lock makes check-and-apply one step: exactly one replica found the migrations pending.
                var appliers = ofService.Count(host => Regex.IsMatch(host.FullOutput(), $@"Applying {expected.Count} migrations to ""?{service.Context}\b"));
                var upToDate = ofService.Count(host => Regex.IsMatch(host.FullOutput(), $@"""?{service.Context}""? is up to date"));
                Assert.True(appliers == 1 && upToDate == ReplicasPerService - 1,
                    $"{service.Name}: {appliers} replicas applied the migrations and {upToDate} found them applied; expected 1 and {ReplicasPerService - 1}");
            }
        }
        finally
        {
            await Task.WhenAll(replicas.Select(r => r.Host.DisposeAsync().AsTask()));
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(services.Postgres);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{new NpgsqlConnectionStringBuilder(database).Database}\" WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private static async Task<List<string>> HistoryAsync(string database, string historyTable)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT \"MigrationId\" FROM \"{historyTable}\" ORDER BY \"MigrationId\"", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var ids = new List<string>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}
