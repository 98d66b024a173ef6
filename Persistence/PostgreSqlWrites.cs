using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Pipeline.Persistence;

/// <summary>
/// Set-based writes of whole entities on PostgreSQL, sent together: each statement covers a batch of rows, every mapped
/// column as an array (<c>unnest</c>), with the table, columns and key taken from the EF model; <see cref="ExecuteAsync"/>
/// sends all of them in one round trip (<see cref="NpgsqlBatch"/>) in the context's current transaction. Shadow and
/// converted properties are refused.
/// </summary>
public sealed class PostgreSqlWrites(DbContext db)
{
    private static readonly ConcurrentDictionary<(IModel, Type), Shape> Shapes = new();

    private readonly List<NpgsqlBatchCommand> _commands = [];
    private readonly List<(NpgsqlBatchCommand Command, int Expected, string Table)> _checked = [];

    /// <summary>Inserts <paramref name="rows"/>.</summary>
    public PostgreSqlWrites Insert<T>(IReadOnlyList<T> rows) where T : class => Add(rows, upsert: false);

    /// <summary>Inserts <paramref name="rows"/>; a row whose key is there already has every other column replaced.</summary>
    public PostgreSqlWrites Upsert<T>(IReadOnlyList<T> rows) where T : class => Add(rows, upsert: true);

    /// <summary>
    /// Updates <paramref name="rows"/>: every column but the key is set from the row, where the row's concurrency token
    /// (its property marked <c>IsConcurrencyToken</c>) still has the value it was read with. When fewer rows than given
    /// are updated (some changed since they were read), <see cref="ExecuteAsync"/> throws
    /// <see cref="DbUpdateConcurrencyException"/>, as EF's own check would.
    /// </summary>
    public PostgreSqlWrites Update<T>(IReadOnlyList<(T Row, object Read)> rows) where T : class
    {
        if (rows.Count == 0)
        {
            return this;
        }

        var shape = ShapeOf<T>();
        var token = shape.Token ?? throw new NotSupportedException($"{typeof(T).Name} has no concurrency token: not updated set-based.");
        var command = new NpgsqlBatchCommand(shape.Update);
        var values = rows.Select(r => r.Row).ToList();
        foreach (var column in shape.Columns)
        {
            command.Parameters.Add(ColumnOf(column, values));
        }

        var read = Array.CreateInstance(token.ClrType, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            read.SetValue(rows[i].Read, i);
        }

        command.Parameters.Add(new NpgsqlParameter { Value = read });
        _commands.Add(command);
        _checked.Add((command, rows.Count, shape.Table));
        return this;
    }

    /// <summary>Sends every statement added, in order, in one round trip; a refused statement (a unique index) throws its <see cref="PostgresException"/>.</summary>
    public async Task ExecuteAsync(CancellationToken cancellationToken)
    {
        if (_commands.Count == 0)
        {
            return;
        }

        var transaction = db.Database.CurrentTransaction?.GetDbTransaction()
            ?? throw new InvalidOperationException("Set-based writes run inside the caller's transaction.");
        await using var batch = new NpgsqlBatch((NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)transaction);
        foreach (var command in _commands)
        {
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
        foreach (var (command, expected, table) in _checked)
        {
            if (command.RecordsAffected != expected)
            {
                throw new DbUpdateConcurrencyException(
                    $"{expected - command.RecordsAffected} of {expected} rows of {table} changed since they were read (another writer was first).");
            }
        }
    }

    private PostgreSqlWrites Add<T>(IReadOnlyList<T> rows, bool upsert) where T : class
    {
        if (rows.Count == 0)
        {
            return this;
        }

        var shape = ShapeOf<T>();
        var command = new NpgsqlBatchCommand(upsert ? shape.Upsert : shape.Insert);
        foreach (var column in shape.Columns)
        {
            command.Parameters.Add(ColumnOf(column, rows));
        }

        _commands.Add(command);
        return this;
    }

    private Shape ShapeOf<T>() => Shapes.GetOrAdd((db.Model, typeof(T)), static (key, db) => Shape.Of(db, key.Item2), db);

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

    /// <summary>An entity's table, columns and statements, built once per model.</summary>
    private sealed record Shape(string Table, IReadOnlyList<IProperty> Columns, IProperty? Token, string Insert, string Upsert, string Update)
    {
        public static Shape Of(DbContext db, Type type)
        {
            var entity = db.Model.FindEntityType(type) ?? throw new InvalidOperationException($"{type.Name} is not mapped by {db.GetType().Name}.");
            var sql = db.GetService<ISqlGenerationHelper>();
            var store = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
            var columns = entity.GetProperties().ToList();
            if (columns.FirstOrDefault(c => c.IsShadowProperty() || c.GetTypeMapping().Converter is not null) is { } unsupported)
            {
                throw new NotSupportedException($"{type.Name}.{unsupported.Name} is a shadow property or converted: not written set-based.");
            }

            var table = sql.DelimitIdentifier(store.Name, store.Schema);
            var names = columns.ConvertAll(c => sql.DelimitIdentifier(c.GetColumnName(store)!));
            var key = entity.FindPrimaryKey()!.Properties;
            var keyNames = key.Select(k => names[columns.IndexOf(k)]).ToList();
            var others = names.Where((_, i) => !key.Contains(columns[i])).ToList();
            var list = string.Join(", ", names);
            var insert = $"INSERT INTO {table} ({list}) SELECT * FROM unnest({Placeholders(columns.Count)}) AS u({list})";
            var upsert = $"{insert} ON CONFLICT ({string.Join(", ", keyNames)}) DO UPDATE SET {string.Join(", ", others.Select(n => $"{n} = EXCLUDED.{n}"))}";

            var token = columns.SingleOrDefault(c => c.IsConcurrencyToken);
            const string read = "\"__read\"";
            var update = token is null ? "" : $"""
                UPDATE {table} AS t SET {string.Join(", ", others.Select(n => $"{n} = u.{n}"))}
                FROM unnest({Placeholders(columns.Count + 1)}) AS u({list}, {read})
                WHERE {string.Join(" AND ", keyNames.Select(n => $"t.{n} = u.{n}"))} AND t.{names[columns.IndexOf(token)]} = u.{read}
                """;
            return new Shape(table, columns, token, insert, upsert, update);
        }

        private static string Placeholders(int count) => string.Join(", ", Enumerable.Range(1, count).Select(i => $"${i}"));
    }
}
