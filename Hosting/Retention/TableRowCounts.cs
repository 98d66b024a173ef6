using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace Pipeline.Hosting.Retention;

/// <summary>
/// Sets <c>pipeline_table_rows{table}</c> for every table of a context's model. COUNT(*) reads the whole table, so it
/// is used only where that is cheap: on SQLite (embedded, small), and on the server providers below
/// <see cref="ExactCountBelow"/> rows. Above it, PostgreSQL's planner estimate (<c>pg_class.reltuples</c>, refreshed by
/// autovacuum and ANALYZE, typically within a few percent) and SQL Server's partition row counts
/// (<c>sys.partitions.rows</c>) are read from the catalog instead.
/// </summary>
public static class TableRowCounts
{
    public const long ExactCountBelow = 100_000;

    public static async Task MeasureAsync(DbContext db, CancellationToken cancellationToken)
    {
        var tables = db.Model.GetEntityTypes().Select(t => t.GetTableName()).OfType<string>().Distinct().Order().ToList();
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = db.Database.GetDbConnection();
            foreach (var table in tables)
            {
                RetentionMetrics.TableRows.WithLabels(table).Set(await CountAsync(db, connection, table, cancellationToken));
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task<long> CountAsync(DbContext db, DbConnection connection, string table, CancellationToken cancellationToken)
    {
        // Table names come from the model, never from input; they are quoted for the provider all the same.
        if (db.Database.IsNpgsql())
        {
            var estimate = await ScalarAsync(connection, "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(@table)", cancellationToken,
                ("table", $"\"{table}\""));
            // -1: never analysed yet (a new table), so no estimate to trust.
            return estimate is >= 0 and >= ExactCountBelow ? estimate.Value : await ScalarAsync(connection, $"SELECT count(*) FROM \"{table}\"", cancellationToken) ?? 0;
        }

        if (db.Database.IsSqlServer())
        {
            var estimate = await ScalarAsync(connection,
                "SELECT SUM(rows) FROM sys.partitions WHERE object_id = OBJECT_ID(@table) AND index_id IN (0, 1)", cancellationToken,
                ("table", $"[{table}]"));
            return estimate is >= ExactCountBelow ? estimate.Value : await ScalarAsync(connection, $"SELECT COUNT_BIG(*) FROM [{table}]", cancellationToken) ?? 0;
        }

        return await ScalarAsync(connection, $"SELECT count(*) FROM \"{table}\"", cancellationToken) ?? 0;
    }

    private static async Task<long?> ScalarAsync(
        DbConnection connection, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        var result = await command.ExecuteScalarAsync(cancellationToken);
        return result is null or DBNull ? null : Convert.ToInt64(result, System.Globalization.CultureInfo.InvariantCulture);
    }
}
