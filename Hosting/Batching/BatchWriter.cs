using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Persistence.Inbox;

namespace Pipeline.Hosting.Batching;

/// <summary>
/// A group-committed writer (<see cref="GroupCommit{TItem, TResult}"/> with the options named after it): each batch is
/// written in a DI scope of its own. A subclass holds only what one batch does (<see cref="CommitAsync"/>).
/// </summary>
public abstract class BatchWriter<TItem, TResult> : IAsyncDisposable
{
    private readonly IServiceScopeFactory _scopes;
    private readonly GroupCommit<TItem, TResult> _commits;

    /// <param name="name">What is committed, for logs and metrics, and the name of its <see cref="GroupCommitOptions"/>.</param>
    /// <param name="partitionKey">The entity an item changes: one entity's items are written by one writer, in order.</param>
    protected BatchWriter(
        string name, IServiceScopeFactory scopes, IOptionsMonitor<GroupCommitOptions> options, ILogger logger, Func<TItem, string>? partitionKey = null)
    {
        _scopes = scopes;
        _commits = new GroupCommit<TItem, TResult>(name, CommitInScopeAsync, options.Get(name), logger, partitionKey);
    }

    /// <summary>Returns once the commit holding <paramref name="item"/> is done; throws what refused it.</summary>
    /// <param name="alone">The item failed before (a message being retried): it is written in a transaction of its own.</param>
    protected Task<TResult> SubmitAsync(TItem item, CancellationToken cancellationToken, bool alone = false) =>
        _commits.SubmitAsync(item, cancellationToken, alone);

    /// <summary>Writes a batch in one transaction and returns one result per item, in order; throws when nothing was committed.</summary>
    protected abstract Task<IReadOnlyList<TResult>> CommitAsync(IServiceProvider services, IReadOnlyList<TItem> batch, CancellationToken cancellationToken);

    public ValueTask DisposeAsync() => _commits.DisposeAsync();

    private async Task<IReadOnlyList<TResult>> CommitInScopeAsync(IReadOnlyList<TItem> batch, CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        return await CommitAsync(scope.ServiceProvider, batch, cancellationToken);
    }
}

/// <summary>
/// A consumer's group-committed writer: the messages consumed together are applied in one transaction of
/// <typeparamref name="TContext"/>, each with its inbox row (<see cref="Inbox.ApplyBatchOnceAsync"/>), so each effect is
/// there if and only if its inbox row is.
/// </summary>
/// <param name="consumer">The consumer's name: its inbox rows' and its <see cref="GroupCommitOptions"/>' name.</param>
public abstract class InboxBatchWriter<TContext, TItem, TResult>(
    string consumer, Func<TItem, Guid> messageId, IServiceScopeFactory scopes, IOptionsMonitor<GroupCommitOptions> options, ILogger logger,
    Func<TItem, string>? partitionKey = null)
    : BatchWriter<TItem, TResult>(consumer, scopes, options, logger, partitionKey)
    where TContext : DbContext
{
    private readonly string _consumer = consumer;
    private readonly Func<TItem, Guid> _messageId = messageId;

    /// <summary>Writes one batch, applying it through <see cref="InboxBatch.ApplyOnceAsync"/>; its <see cref="InboxBatch.Results"/> are what its callers get.</summary>
    protected abstract Task WriteAsync(InboxBatch batch, CancellationToken cancellationToken);

    protected sealed override async Task<IReadOnlyList<TResult>> CommitAsync(
        IServiceProvider services, IReadOnlyList<TItem> batch, CancellationToken cancellationToken)
    {
        var inboxBatch = new InboxBatch(this, batch, services);
        await WriteAsync(inboxBatch, cancellationToken);
        return inboxBatch.Results;
    }

    /// <summary>One batch: its items, the scope's services and context, and one result per item (default until set).</summary>
    protected sealed class InboxBatch(InboxBatchWriter<TContext, TItem, TResult> writer, IReadOnlyList<TItem> items, IServiceProvider services)
    {
        public IReadOnlyList<TItem> Items { get; } = items;
        public IServiceProvider Services { get; } = services;
        public TContext Db { get; } = services.GetRequiredService<TContext>();
        public TResult[] Results { get; } = new TResult[items.Count];

        /// <summary>
        /// Applies the effects of the messages the inbox has not seen, with their inbox rows: <paramref name="effects"/> gets
        /// their indexes, changes the context and sets their <see cref="Results"/>, and returns the indexes it could not
        /// apply. After a refused commit it is called again from scratch, with the results cleared (see
        /// <see cref="Inbox.ApplyBatchOnceAsync"/>). Does not commit a transaction the caller opened.
        /// </summary>
        /// <returns>For each item: true when its effect was applied now.</returns>
        public Task<bool[]> ApplyOnceAsync(
            Func<IReadOnlyList<int>, CancellationToken, Task<IReadOnlyCollection<int>>> effects, CancellationToken cancellationToken) =>
            Inbox.ApplyBatchOnceAsync(Db, Items.Select(writer._messageId).ToList(), writer._consumer, (indexes, ct) =>
            {
                Array.Clear(Results);
                return effects(indexes, ct);
            }, cancellationToken);
    }
}
