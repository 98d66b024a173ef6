using System.Buffers.Binary;
using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.SqlClient;
using Npgsql;

namespace Pipeline.Persistence;

/// <summary>
/// An exclusive lock, one per migrations history table (so per service, also where services share a database), held on
/// a dedicated connection from before the pending migrations are read until the last one is committed. Replicas that
/// start together therefore migrate one after the other, and each later one finds nothing left to apply.
/// </summary>
/// <remarks>
/// EF Core's own migration lock is not enough. On PostgreSQL (Npgsql 10) it is <c>LOCK TABLE</c> on the history table
/// inside each migration's transaction, so it is released at every commit, while the list of migrations to apply is
/// read only once, at the start: a replica that waited behind the first migration applies the second, and the first
/// replica then applies the second again from its stale list (<c>42701: column … already exists</c>). SQL Server's
/// <c>sp_getapplock</c> session lock in EF Core is held for the whole run, but it is one name for every context of the
/// database; this lock is the same on both providers and makes the order of events ours, not an implementation detail.
/// Both are session locks: a replica that dies while holding one releases it with its connection.
/// </remarks>
internal abstract class MigrationLock : IAsyncDisposable
{
    private readonly DbConnection _connection;

    private MigrationLock(DbConnection connection) => _connection = connection;

    /// <summary>
    /// The prefix of every lock name: the name must stay the same from one release to the next, or replicas of two
    /// versions in the same rolling update would not exclude each other.
    /// </summary>
    internal const string NamePrefix = "pipeline-migrations:";

    /// <summary>The lock for a server provider; SQLite, a file of one process, needs none.</summary>
    public static async Task<MigrationLock?> AcquireAsync(
        DatabaseProvider provider, string connectionString, string historyTable, TimeSpan timeout, CancellationToken cancellationToken)
    {
        MigrationLock? migrationLock = provider switch
        {
            DatabaseProvider.PostgreSql => new PostgreSqlAdvisoryLock(connectionString, historyTable),
            DatabaseProvider.SqlServer => new SqlServerAppLock(connectionString, historyTable),
            _ => null,
        };
        if (migrationLock is null)
        {
            return null;
        }

        try
        {
            await migrationLock._connection.OpenAsync(cancellationToken);
            await migrationLock.LockAsync(timeout, cancellationToken);
            return migrationLock;
        }
        catch
        {
            await migrationLock._connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The key of <c>pg_advisory_lock</c> for a history table: the first 8 bytes of SHA-256 of the lock name.</summary>
    internal static long PostgreSqlKey(string historyTable) =>
        BinaryPrimitives.ReadInt64BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(NamePrefix + historyTable)));

    /// <summary>The resource of <c>sp_getapplock</c> for a history table (at most 255 characters).</summary>
    internal static string SqlServerResource(string historyTable) => NamePrefix + historyTable;

    /// <summary>
    /// The connection must be one of its own: a pooled one would go back to the pool still holding the lock if the
    /// unlock failed, and another context on the same pool could take it over. Without pooling, closing ends the session.
    /// </summary>
    internal static string DedicatedConnectionString(DatabaseProvider provider, string connectionString) => provider switch
    {
        DatabaseProvider.PostgreSql => new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString,
        DatabaseProvider.SqlServer => new SqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString,
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "Only server providers take a migration lock."),
    };

    protected abstract Task LockAsync(TimeSpan timeout, CancellationToken cancellationToken);

    protected abstract Task UnlockAsync();

    protected DbCommand Command(string sql, TimeSpan timeout, params (string Name, object Value)[] parameters)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        // The server gives up at the lock timeout; the client waits a little longer so that it hears why.
        command.CommandTimeout = (int)Math.Ceiling(timeout.TotalSeconds) + 30;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await UnlockAsync();
        }
        finally
        {
            // Ends the session, which releases the lock even where the unlock above failed.
            await _connection.DisposeAsync();
        }
    }

    internal sealed class PostgreSqlAdvisoryLock(string connectionString, string historyTable)
        : MigrationLock(new NpgsqlConnection(DedicatedConnectionString(DatabaseProvider.PostgreSql, connectionString)))
    {
        internal const string LockSql = "SELECT set_config('lock_timeout', @timeout, false); SELECT pg_advisory_lock(@key);";
        internal const string UnlockSql = "SELECT pg_advisory_unlock(@key);";

        private readonly long _key = PostgreSqlKey(historyTable);

        protected override async Task LockAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            await using var command = Command(LockSql, timeout, ("timeout", $"{(long)timeout.TotalMilliseconds}ms"), ("key", _key));
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
            {
                throw TimedOut(historyTable, timeout, e);
            }
        }

        protected override async Task UnlockAsync()
        {
            await using var command = Command(UnlockSql, TimeSpan.Zero, ("key", _key));
            await command.ExecuteNonQueryAsync();
        }
    }

    internal sealed class SqlServerAppLock(string connectionString, string historyTable)
        : MigrationLock(new SqlConnection(DedicatedConnectionString(DatabaseProvider.SqlServer, connectionString)))
    {
        // Session-owned: the connection has no transaction, and EF Core's commits on its own connection must not end it.
        internal const string LockSql = """
            DECLARE @result int;
            EXEC @result = sp_getapplock @Resource = @resource, @LockMode = 'Exclusive', @LockOwner = 'Session', @LockTimeout = @timeout;
            SELECT @result;
            """;

        internal const string UnlockSql = "EXEC sp_releaseapplock @Resource = @resource, @LockOwner = 'Session';";

        private readonly string _resource = SqlServerResource(historyTable);

        protected override async Task LockAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            await using var command = Command(LockSql, timeout, ("@resource", _resource), ("@timeout", (int)timeout.TotalMilliseconds));
            var result = Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken));
            // 0: granted at once, 1: granted after waiting; -1: timed out; -2 cancelled, -3 deadlock victim, -999 bad call.
            if (result == -1)
            {
                throw TimedOut(historyTable, timeout, null);
            }

            if (result < 0)
            {
                throw new InvalidOperationException($"sp_getapplock refused the migration lock '{_resource}' ({result}).");
            }
        }

        protected override async Task UnlockAsync()
        {
            await using var command = Command(UnlockSql, TimeSpan.Zero, ("@resource", _resource));
            await command.ExecuteNonQueryAsync();
        }
    }

    private static TimeoutException TimedOut(string historyTable, TimeSpan timeout, Exception? inner) =>
        new($"Another process held the migration lock of {historyTable} for longer than {timeout} " +
            $"({DatabaseOptions.Section}:{nameof(DatabaseOptions.MigrationLockTimeout)}). If no replica is migrating, " +
            "look for a session that still holds it.", inner);
}
