using System.Data.Common;
using Microsoft.Data.SqlClient;
using Microsoft.Data.Sqlite;
using Npgsql;
using Pipeline.Persistence;

namespace Pipeline.Ops.Outbox;

public sealed record OutboxTableStatus(string Table, long Pending, DateTime? OldestPending, long Failing, long? SentLastMinute, string? LastError);

/// <summary>Reads an outbox table's backlog straight from the database (the same SQL on every provider).</summary>
public static class OutboxStatus
{
    public static readonly string[] KnownTables = ["ingress_outbox", "credits_outbox", "sandboxes_outbox"];

    public static async Task<OutboxTableStatus?> ReadAsync(DatabaseProvider provider, string connectionString, string table, CancellationToken cancellationToken)
    {
        await using var connection = Open(provider, connectionString);
        await connection.OpenAsync(cancellationToken);
        try
        {
            var since = DateTime.UtcNow.AddMinutes(-1);
            var pending = await ScalarAsync(connection, $"""SELECT COUNT(*) FROM {table} WHERE "SentAt" IS NULL""", cancellationToken);
            var oldest = await ScalarAsync(connection, $"""SELECT MIN("CreatedAt") FROM {table} WHERE "SentAt" IS NULL""", cancellationToken);
            var failing = await ScalarAsync(connection, $"""SELECT COUNT(*) FROM {table} WHERE "SentAt" IS NULL AND "Attempts" > 0""", cancellationToken);
            // Published rows are deleted unless the service keeps them (Outbox:RetainSent): without any, nothing says how many were sent.
            var kept = Convert.ToInt64(await ScalarAsync(connection, $"""SELECT COUNT(*) FROM {table} WHERE "SentAt" IS NOT NULL""", cancellationToken));
            var sent = kept == 0 ? null : await ScalarAsync(connection, $"""SELECT COUNT(*) FROM {table} WHERE "SentAt" >= @since""", cancellationToken, since);
            var error = await ScalarAsync(connection,
                $"""SELECT "LastError" FROM {table} WHERE "SentAt" IS NULL AND "LastError" IS NOT NULL ORDER BY "CreatedAt" DESC""", cancellationToken);
            return new OutboxTableStatus(table, Convert.ToInt64(pending), AsUtc(oldest), Convert.ToInt64(failing), sent is null ? null : Convert.ToInt64(sent), error as string);
        }
        catch (DbException)
        {
            return null; // this database has no such table: the service that owns it is elsewhere
        }
    }

    /// <summary>Timestamps are stored as UTC; SQLite hands them back as text, SQL Server without a kind.</summary>
    private static DateTime? AsUtc(object? value) => value switch
    {
        DateTime d => DateTime.SpecifyKind(d, DateTimeKind.Utc),
        string s => DateTime.SpecifyKind(DateTime.Parse(s, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc),
        _ => null,
    };

    private static DbConnection Open(DatabaseProvider provider, string connectionString) => provider switch
    {
        DatabaseProvider.PostgreSql => new NpgsqlConnection(connectionString),
        DatabaseProvider.SqlServer => new SqlConnection(connectionString),
        _ => new SqliteConnection(connectionString),
    };

    private static async Task<object?> ScalarAsync(DbConnection connection, string sql, CancellationToken cancellationToken, DateTime? since = null)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        if (since is not null)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@since";
            parameter.Value = since.Value;
            command.Parameters.Add(parameter);
        }

        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is DBNull ? null : value;
    }
}
