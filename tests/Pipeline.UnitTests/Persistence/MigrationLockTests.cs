using System.ComponentModel.DataAnnotations;
using Microsoft.Data.SqlClient;
using Npgsql;
using Pipeline.Persistence;
using Pipeline.Persistence.Credits;
using Pipeline.Persistence.Ingress;
using Pipeline.Persistence.Rooms;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.UnitTests.Persistence;

/// <summary>
/// Which lock start-up migrations take, and its names. The PostgreSQL lock is exercised for real by the integration
/// test that starts replicas together; SQL Server cannot run on these machines, so its statements are checked here.
/// </summary>
public class MigrationLockTests
{
    private static readonly string[] HistoryTables =
    [
        IngressDbContext.MigrationsHistoryTable, SandboxesDbContext.MigrationsHistoryTable,
        CreditsDbContext.MigrationsHistoryTable, RoomsDbContext.MigrationsHistoryTable,
    ];

    [Fact]
    public async Task Sqlite_takes_no_lock_and_opens_nothing()
    {
        // A connection string that could not be opened: SQLite's schema is made by its one process.
        var taken = await MigrationLock.AcquireAsync(DatabaseProvider.Sqlite, "Data Source=/nonexistent/dir/x.db",
            IngressDbContext.MigrationsHistoryTable, TimeSpan.FromSeconds(1), CancellationToken.None);

        Assert.Null(taken);
    }

    [Fact]
    public void Each_service_has_its_own_lock_so_services_sharing_a_database_do_not_wait_for_each_other()
    {
        Assert.Equal(HistoryTables.Length, HistoryTables.Select(MigrationLock.PostgreSqlKey).Distinct().Count());
        Assert.Equal(HistoryTables.Length, HistoryTables.Select(MigrationLock.SqlServerResource).Distinct().Count());
    }

    [Fact]
    public void Lock_names_do_not_change_between_releases_so_old_and_new_replicas_of_a_rolling_update_exclude_each_other()
    {
        // Changing these values lets a replica of the next release migrate beside one of this release.
        Assert.Equal(-6430401842440491366, MigrationLock.PostgreSqlKey("__ingress_migrations"));
        Assert.Equal(2975533338064794712, MigrationLock.PostgreSqlKey("__rooms_migrations"));
        Assert.Equal("pipeline-migrations:__credits_migrations", MigrationLock.SqlServerResource("__credits_migrations"));
        Assert.All(HistoryTables, t => Assert.InRange(MigrationLock.SqlServerResource(t).Length, 1, 255)); // sp_getapplock's limit
    }

    [Fact]
    public void The_lock_has_a_connection_of_its_own_so_that_closing_it_ends_the_session_and_the_lock()
    {
        var postgres = new NpgsqlConnectionStringBuilder(MigrationLock.DedicatedConnectionString(
            DatabaseProvider.PostgreSql, "Host=db;Database=pipeline;Username=app;Maximum Pool Size=10"));
        var sqlServer = new SqlConnectionStringBuilder(MigrationLock.DedicatedConnectionString(
            DatabaseProvider.SqlServer, "Server=db;Database=pipeline_ingress;User Id=app;TrustServerCertificate=true"));

        Assert.False(postgres.Pooling);
        Assert.Equal(("db", "pipeline", "app"), (postgres.Host, postgres.Database, postgres.Username));
        Assert.False(sqlServer.Pooling);
        Assert.Equal(("db", "pipeline_ingress", "app"), (sqlServer.DataSource, sqlServer.InitialCatalog, sqlServer.UserID));
    }

    [Fact]
    public void On_SQL_Server_the_lock_is_an_exclusive_session_applock_with_a_timeout()
    {
        // Session-owned: a transaction-owned applock would end with the first migration's commit, as EF Core's
        // PostgreSQL lock does; the lock's connection has no transaction at all.
        var acquire = MigrationLock.SqlServerAppLock.LockSql;
        Assert.Contains("sp_getapplock @Resource = @resource", acquire);
        Assert.Contains("@LockMode = 'Exclusive'", acquire);
        Assert.Contains("@LockOwner = 'Session'", acquire);
        Assert.Contains("@LockTimeout = @timeout", acquire);
        Assert.Contains("SELECT @result", acquire); // the outcome (-1: timed out) is read, not ignored
        Assert.Contains("sp_releaseapplock @Resource = @resource, @LockOwner = 'Session'", MigrationLock.SqlServerAppLock.UnlockSql);
    }

    [Theory]
    [InlineData("00:05:00", true)]
    [InlineData("00:00:01", true)]
    [InlineData("00:00:00", false)]
    [InlineData("02:00:00", false)]
    public void The_lock_timeout_is_validated(string timeout, bool valid)
    {
        var options = new DatabaseOptions { MigrationLockTimeout = TimeSpan.Parse(timeout) };
        var results = new List<ValidationResult>();

        Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        Assert.All(results, r => Assert.Contains(nameof(DatabaseOptions.MigrationLockTimeout), r.MemberNames));
    }
}
