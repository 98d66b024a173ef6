using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Pipeline.Persistence;
using Pipeline.Persistence.Ingress;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.IntegrationTests.Infrastructure;

/// <summary>A PostgreSQL database of a test class's own on the shared server, dropped when the class is done.</summary>
public sealed class ScratchDatabase : IAsyncDisposable
{
    private readonly string _server;
    private readonly string _name;

    private ScratchDatabase(string server, string name)
    {
        _server = server;
        _name = name;
    }

    public static async Task<ScratchDatabase> CreateAsync(string server, string prefix)
    {
        var database = new ScratchDatabase(server, $"{prefix}_{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        await database.AdminAsync($"CREATE DATABASE \"{database._name}\"");
        return database;
    }

    /// <summary>Settings that point <paramref name="connectionName"/>'s context at this database.</summary>
    public IConfiguration Configuration(string connectionName) => new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
    {
        ["Database:Provider"] = nameof(DatabaseProvider.PostgreSql),
        [$"ConnectionStrings:{connectionName}"] = new NpgsqlConnectionStringBuilder(_server) { Database = _name }.ConnectionString,
    }).Build();

    /// <summary>Ingress's database context on this database, registered as Ingress registers it.</summary>
    public IServiceCollection IngressServices() =>
        Services<IngressDbContext, SqliteIngressDbContext, PostgreSqlIngressDbContext, SqlServerIngressDbContext>(
            "Ingress", IngressDbContext.MigrationsHistoryTable);

    /// <summary>The Sandboxes service's database context on this database, registered as the service registers it.</summary>
    public IServiceCollection SandboxesServices() =>
        Services<SandboxesDbContext, SqliteSandboxesDbContext, PostgreSqlSandboxesDbContext, SqlServerSandboxesDbContext>(
            "Sandboxes", SandboxesDbContext.MigrationsHistoryTable);

    private IServiceCollection Services<TContext, TSqlite, TPostgreSql, TSqlServer>(string connectionName, string historyTable)
        where TContext : PipelineDbContext
        where TSqlite : TContext
        where TPostgreSql : TContext
        where TSqlServer : TContext
    {
        var configuration = Configuration(connectionName);
        return new ServiceCollection()
            .AddSingleton(configuration)
            .AddLogging()
            .AddPipelineDbContext<TContext, TSqlite, TPostgreSql, TSqlServer>(configuration, connectionName, historyTable);
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await AdminAsync($"DROP DATABASE IF EXISTS \"{_name}\" WITH (FORCE)");
    }

    private async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
