using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Pipeline.Persistence;

/// <summary>
/// Set-based writes on PostgreSQL: one statement over arrays (<c>unnest</c>) for a whole batch of rows, on the
/// context's connection and in its current transaction, instead of a tracked entity and a parameter per column per row.
/// </summary>
public static class PostgreSqlArrays
{
    public static NpgsqlCommand Command(DbContext db, string sql) =>
        new(sql, (NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction?)db.Database.CurrentTransaction?.GetDbTransaction());

    /// <summary>One column of <paramref name="rows"/> as an array parameter.</summary>
    public static NpgsqlParameter<T[]> Column<TRow, T>(IReadOnlyList<TRow> rows, Func<TRow, T> value)
    {
        var values = new T[rows.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = value(rows[i]);
        }

        return new NpgsqlParameter<T[]> { TypedValue = values };
    }
}
