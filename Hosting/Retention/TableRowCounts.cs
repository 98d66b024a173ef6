using System.Data.Common;
using Microsoft.EntityFrameworkCore;

namespace Pipeline.Hosting.Retention;

/// <summary>
/// Sets <c>pipeline_table_rows{table}</c> for every table of a context's model. COUNT(*) reads the whole table, so it
/// is used only where that is cheap: on SQLite (embedded, small), on PostgreSQL up to <see cref="ExactCountMaxBytes"/>
/// of table (measured by its file, without reading it), and on SQL Server below <see cref="ExactCountBelow"/> rows.
/// Above that, PostgreSQL's live-row count (<c>pg_stat_user_tables.n_live_tup</c>, kept by its statistics as
/// transactions commit and re-estimated by each vacuum, so within a fraction of a percent; after a crash, which resets
/// it, the planner's estimate <c>pg_class.reltuples</c> until then) and SQL Server's partition row counts
/// (<c>sys.partitions.rows</c>) are read instead.
/// </summary>
public static class TableRowCounts
{
    /// <summary>
    /// 8 MiB: a few milliseconds to count. Counting a 100,000-row receipts table read 120 MB and took 75-120 ms of
    /// PostgreSQL's CPU every refresh, which under load delayed every commit behind it (`benchmarks/e2e`).
    /// </summary>
    public const long ExactCountMaxBytes = 8 << 20;

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
            // Null for a small table, which is counted, and for one that does not exist (yet), whose count reports the error.
            var estimate = await ScalarAsync(connection, """
                SELECT CASE WHEN pg_relation_size(c.oid) <= @exact THEN NULL
                            ELSE greatest(coalesce(s.n_live_tup, 0), c.reltuples::bigint) END
                FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
                WHERE c.oid = to_regclass(@table)
                """, cancellationToken, ("table", $"\"{table}\""), ("exact", ExactCountMaxBytes));
            return estimate ?? await ScalarAsync(connection, $"SELECT count(*) FROM \"{table}\"", cancellationToken) ?? 0;
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
