using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Pipeline.Persistence;

public static class PersistenceRegistration
{
    /// <summary>
    /// Registers <typeparamref name="TContext"/> on the configured provider, resolved to that provider's subclass
    /// (which owns the provider's migrations). Contexts are pooled: a webhook or a message reuses a reset context
    /// instead of building one (on the accept path about a third of the allocations; `benchmarks/Pipeline.Benchmarks accept-path`).
    /// </summary>
    /// <param name="configure">More options for this context (on top of the provider's).</param>
    public static IServiceCollection AddPipelineDbContext<TContext, TSqlite, TPostgreSql, TSqlServer>(
        this IServiceCollection services, IConfiguration configuration, string connectionName, string historyTable,
        Action<DbContextOptionsBuilder>? configure = null)
        where TContext : PipelineDbContext
        where TSqlite : TContext
        where TPostgreSql : TContext
        where TSqlServer : TContext
    {
        services.AddOptions<DatabaseOptions>().BindConfiguration(DatabaseOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var provider = configuration.GetSection(DatabaseOptions.Section).GetValue(nameof(DatabaseOptions.Provider), DatabaseProvider.Sqlite);
        var connectionString = configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new OptionsValidationException(connectionName, typeof(DatabaseOptions),
                [$"ConnectionStrings:{connectionName} is not set (provider {provider})."]);
        }

        switch (provider)
        {
            case DatabaseProvider.PostgreSql:
                services.AddDbContextPool<TContext, TPostgreSql>(o => Configure(o, provider, connectionString, historyTable, configure));
                break;
            case DatabaseProvider.SqlServer:
                services.AddDbContextPool<TContext, TSqlServer>(o => Configure(o, provider, connectionString, historyTable, configure));
                break;
            default:
                services.AddDbContextPool<TContext, TSqlite>(o => Configure(o, provider, connectionString, historyTable, configure));
                break;
        }

        return services;
    }

    /// <summary>
    /// For a context whose callers expect refused writes and handle them (a duplicate insert caught by a unique index,
    /// a lost optimistic-concurrency race) and log the outcome themselves: EF Core would log each as an error with a
    /// stack trace, so its logs of these become Debug. A failure nobody handles still ends in the caller's error log.
    /// </summary>
    public static void ExpectedConflictsAtDebug(DbContextOptionsBuilder options) =>
        options.ConfigureWarnings(w => w.Log(
            (RelationalEventId.CommandError, LogLevel.Debug),
            (CoreEventId.SaveChangesFailed, LogLevel.Debug),
            (CoreEventId.OptimisticConcurrencyException, LogLevel.Debug)));

    private static void Configure(
        DbContextOptionsBuilder builder, DatabaseProvider provider, string connectionString, string historyTable, Action<DbContextOptionsBuilder>? configure)
    {
        builder.UsePipelineProvider(provider, connectionString, historyTable);
        configure?.Invoke(builder);
    }

    public static DbContextOptionsBuilder UsePipelineProvider(
        this DbContextOptionsBuilder builder, DatabaseProvider provider, string connectionString, string historyTable) =>
        provider switch
        {
            DatabaseProvider.PostgreSql => builder.UseNpgsql(WithServiceDefaults(connectionString), o => o.MigrationsHistoryTable(historyTable)),
            DatabaseProvider.SqlServer => builder.UseSqlServer(connectionString, o => o.MigrationsHistoryTable(historyTable)),
            _ => builder.UseSqlite(connectionString),
        };

    /// <summary>The number of statements each PostgreSQL connection keeps prepared, unless its connection string says otherwise.</summary>
    public const int DefaultMaxAutoPrepare = 64;

    /// <summary>
    /// A PostgreSQL connection string as the services use it, each setting added unless the string sets it itself:
    /// <list type="bullet">
    /// <item>It prepares the statements a service runs again and again (Npgsql's <c>Max Auto Prepare</c>,
    /// <see cref="DefaultMaxAutoPrepare"/>; <c>Max Auto Prepare=0</c> turns it off). Unprepared, every statement is
    /// parsed, analysed and planned on every execution: a fifth of the database's CPU under load (`benchmarks/e2e`).
    /// Prepared statements outlive the return of a connection to the pool. They are still planned for their parameters
    /// each time (<c>plan_cache_mode=force_custom_plan</c>): PostgreSQL's generic plan of a statement first run on an
    /// empty table (a new deployment) stays until the table is analysed, and Credits' ledger lookup then read the whole
    /// table for each batch (23 ms instead of 0.1 ms at 100,000 rows).</item>
    /// <item>A connection going back to the pool is not reset (<c>No Reset On Close</c>). The reset is four statements
    /// (<c>SET SESSION AUTHORIZATION DEFAULT</c>, <c>RESET ALL</c>, unlocks and discards) sent with the connection's
    /// next command, that is with every group commit; the services leave no session state behind (their transactions
    /// end before the connection is returned, and the migration lock's connection is never pooled).</item>
    /// </list>
    /// </summary>
    public static string WithServiceDefaults(string connectionString)
    {
        // Npgsql's builder answers ContainsKey for any keyword it knows, set or not; the plain one holds only what is given.
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(key => key.Replace(" ", "", StringComparison.Ordinal))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!given.Contains("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = DefaultMaxAutoPrepare;
            builder.Options = $"{builder.Options} -c plan_cache_mode=force_custom_plan".TrimStart();
        }

        if (!given.Contains("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }

    /// <summary>
    /// Brings the schema up to date: migrations on server providers, create-if-missing on SQLite. Safe for any number of
    /// replicas starting at once: creating the database tolerates a replica that created it first, and the migrations
    /// run under <see cref="MigrationLock"/>, so per history table one replica applies them and the others wait.
    /// </summary>
    public static async Task PrepareDatabaseAsync<TContext>(this IServiceProvider services, CancellationToken cancellationToken = default)
        where TContext : DbContext
    {
        var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        if (!options.MigrateOnStartup)
        {
            return;
        }

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PersistenceRegistration));
        var context = typeof(TContext).Name;
        if (db.Database.IsSqlite())
        {
            PrepareSqliteDirectory(db.Database.GetConnectionString());
            await db.Database.EnsureCreatedAsync(cancellationToken);
            // WAL lets the read API and the writers work side by side.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            logger.LogInformation("Database for {Context} is ready ({Provider})", context, options.Provider);
            return;
        }

        await EnsureDatabaseExistsAsync(db, context, logger, cancellationToken);
        var historyTable = RelationalOptionsExtension.Extract(db.GetService<IDbContextOptions>()).MigrationsHistoryTableName
                           ?? HistoryRepository.DefaultTableName;
        logger.LogInformation("Waiting for the migration lock of {Context} ({HistoryTable})", context, historyTable);
        await using (await MigrationLock.AcquireAsync(
                         options.Provider, db.Database.GetConnectionString()!, historyTable, options.MigrationLockTimeout, cancellationToken))
        {
            // Read under the lock: what another replica applied before is no longer pending. The history table is made
            // first, as MigrateAsync would: on PostgreSQL reading a missing one logs a failed command.
            await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count == 0)
            {
                logger.LogInformation("{Context} is up to date: no migrations to apply", context);
            }
            else
            {
                logger.LogInformation("Applying {Count} migrations to {Context}: {Migrations}", pending.Count, context, string.Join(", ", pending));
                await db.Database.MigrateAsync(cancellationToken);
            }
        }

        logger.LogInformation("Database for {Context} is ready ({Provider})", context, options.Provider);
    }

    /// <summary>
    /// Creates the database if it is missing. Replicas starting together all find it missing and all try; the ones
    /// that lose find it there afterwards, and that is all they need.
    /// </summary>
    private static async Task EnsureDatabaseExistsAsync(DbContext db, string context, ILogger logger, CancellationToken cancellationToken)
    {
        var creator = db.GetService<IRelationalDatabaseCreator>();
        if (await creator.ExistsAsync(cancellationToken))
        {
            return;
        }

        try
        {
            await creator.CreateAsync(cancellationToken);
            logger.LogInformation("Created the database of {Context}", context);
        }
        catch (DbException e)
        {
            if (!await creator.ExistsAsync(cancellationToken))
            {
                throw;
            }

            logger.LogInformation("The database of {Context} was created by another process meanwhile ({Reason})", context, e.Message);
        }
    }

    private static void PrepareSqliteDirectory(string? connectionString)
    {
        var dataSource = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(connectionString).DataSource;
        var directory = Path.GetDirectoryName(Path.GetFullPath(dataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
    }
}
