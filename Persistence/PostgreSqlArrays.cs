using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
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

    /// <summary>Inserts <paramref name="rows"/> in one statement, every mapped column of <typeparamref name="T"/> as an array.</summary>
    public static async Task InsertAsync<T>(DbContext db, IReadOnlyList<T> rows, CancellationToken cancellationToken) where T : class
    {
        if (rows.Count == 0)
        {
            return;
        }

        var (table, columns, names) = Shape<T>(db);
        var list = string.Join(", ", names);
        await using var insert = Command(db,
            $"INSERT INTO {table} ({list}) SELECT * FROM unnest({Placeholders(columns.Count)}) AS u({list})");
        foreach (var column in columns)
        {
            insert.Parameters.Add(ColumnOf(column, rows));
        }

        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Updates <paramref name="rows"/> in one statement: every column but the key is set from the row, where the row's
    /// concurrency token (its property marked <c>IsConcurrencyToken</c>) still has the value it was read with.
    /// </summary>
    /// <returns>The rows updated: fewer than given when some changed since they were read.</returns>
    public static async Task<int> UpdateAsync<T>(DbContext db, IReadOnlyList<(T Row, object Read)> rows, CancellationToken cancellationToken)
        where T : class
    {
        if (rows.Count == 0)
        {
            return 0;
        }

        var (table, columns, names) = Shape<T>(db);
        var entity = db.Model.FindEntityType(typeof(T))!;
        var key = entity.FindPrimaryKey()!.Properties;
        var token = columns.Single(c => c.IsConcurrencyToken);
        var set = columns.Select((c, i) => (c, i)).Where(x => !key.Contains(x.c)).Select(x => $"{names[x.i]} = u.{names[x.i]}");
        var match = key.Select(k => names[columns.IndexOf(k)]).Select(n => $"t.{n} = u.{n}");
        const string read = "\"__read\"";
        await using var update = Command(db, $"""
            UPDATE {table} AS t SET {string.Join(", ", set)}
            FROM unnest({Placeholders(columns.Count + 1)}) AS u({string.Join(", ", names)}, {read})
            WHERE {string.Join(" AND ", match)} AND t.{names[columns.IndexOf(token)]} = u.{read}
            """);
        var values = rows.Select(r => r.Row).ToList();
        foreach (var column in columns)
        {
            update.Parameters.Add(ColumnOf(column, values));
        }

        var readValues = Array.CreateInstance(token.ClrType, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            readValues.SetValue(rows[i].Read, i);
        }

        update.Parameters.Add(new NpgsqlParameter { Value = readValues });
        return await update.ExecuteNonQueryAsync(cancellationToken);
    }

    private static (string Table, List<IProperty> Columns, List<string> Names) Shape<T>(DbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not mapped by {db.GetType().Name}.");
        var sql = db.GetService<ISqlGenerationHelper>();
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var columns = entity.GetProperties().ToList();
        if (columns.FirstOrDefault(c => c.IsShadowProperty() || c.GetTypeMapping().Converter is not null) is { } unsupported)
        {
            throw new NotSupportedException($"{typeof(T).Name}.{unsupported.Name} is a shadow property or converted: not written set-based.");
        }

        return (sql.DelimitIdentifier(table.Name, table.Schema), columns, columns.ConvertAll(c => sql.DelimitIdentifier(c.GetColumnName(table)!)));
    }

    private static NpgsqlParameter ColumnOf<T>(IProperty column, IReadOnlyList<T> rows) where T : class
    {
        var getter = column.GetGetter();
        var values = Array.CreateInstance(column.ClrType, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            values.SetValue(getter.GetClrValue(rows[i]), i);
        }

        return new NpgsqlParameter { Value = values };
    }

    private static string Placeholders(int count) => string.Join(", ", Enumerable.Range(1, count).Select(i => $"${i}"));
}
