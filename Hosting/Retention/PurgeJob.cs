using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Pipeline.Hosting.Retention;

/// <summary>
/// Deletes one batch of expired rows: at most <paramref name="batchSize"/> rows last touched before
/// <paramref name="cutoff"/>, in one short transaction, so a purge never holds locks that accepts or consumers wait on
/// for long. Another replica may run the same batch at the same moment: deleting a row twice deletes it once.
/// </summary>
public delegate Task<PurgedBatch> PurgeBatch<in TContext>(TContext db, DateTime cutoff, int batchSize, CancellationToken cancellationToken);

/// <param name="Rows">Rows deleted from the job's own table; fewer than the batch size means none are left.</param>
/// <param name="RelatedRows">Rows deleted with them from other tables (a room's sessions, tracks, …).</param>
public readonly record struct PurgedBatch(int Rows, int RelatedRows = 0)
{
    public static implicit operator PurgedBatch(int rows) => new(rows);
}

/// <summary>One kind of row that expires, as <see cref="RetentionWorker"/> runs it.</summary>
public interface IPurgeJob
{
    /// <summary>The table, from the context's model (it names the job in logs and metrics).</summary>
    string TableName(IServiceProvider scoped);

    /// <summary>What else goes with the rows, for the log ("sessions, tracks, …"), or null.</summary>
    string? Related { get; }

    /// <summary>How long rows are kept, read at each round so a reloaded setting applies.</summary>
    TimeSpan Retention(IServiceProvider services);

    Task<PurgedBatch> PurgeBatchAsync(IServiceProvider scoped, DateTime cutoff, int batchSize, CancellationToken cancellationToken);
}

internal sealed class PurgeJob<TContext, TEntity, TOptions>(Func<TOptions, TimeSpan> retention, PurgeBatch<TContext> purge, string? related)
    : IPurgeJob
    where TContext : DbContext
    where TEntity : class
    where TOptions : class
{
    public string? Related => related;

    public string TableName(IServiceProvider scoped) =>
        scoped.GetRequiredService<TContext>().Model.FindEntityType(typeof(TEntity))?.GetTableName()
        ?? throw new InvalidOperationException($"{typeof(TContext).Name} maps no table for {typeof(TEntity).Name}.");

    public TimeSpan Retention(IServiceProvider services) => retention(services.GetRequiredService<IOptionsMonitor<TOptions>>().CurrentValue);

    public Task<PurgedBatch> PurgeBatchAsync(IServiceProvider scoped, DateTime cutoff, int batchSize, CancellationToken cancellationToken) =>
        purge(scoped.GetRequiredService<TContext>(), cutoff, batchSize, cancellationToken);
}
