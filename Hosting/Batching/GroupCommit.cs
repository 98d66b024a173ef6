using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Pipeline.Hosting.Batching;

/// <summary>
/// Group commit: callers submit one item each and await its own result; a writer takes everything waiting (up to
/// <see cref="GroupCommitOptions.MaxBatch"/>) and commits it in one transaction, so concurrent callers share one
/// round trip and one disk flush instead of paying one each. The items that arrive while a commit is in flight form the
/// next batch; a writer that finds fewer than <see cref="LingerBelow"/> items waits <see cref="GroupCommitOptions.Linger"/>
/// (once) for more, and with no linger commits at once.
/// <para>
/// With a partition key, each writer has its own queue and the items of one key always go to the same one, in the
/// order they were submitted: the items of one entity (an account, a sandbox) are never in two transactions at once,
/// and a busy entity's items are applied one after another in the same transaction instead of racing for its row.
/// </para>
/// <para>
/// Each caller gets only its own outcome. When a batch fails, each of its items is retried alone, so one bad item
/// fails only its own caller (with its own exception) and the others still get theirs.
/// </para>
/// </summary>
/// <typeparam name="TItem">What a caller submits.</typeparam>
/// <typeparam name="TResult">What each caller gets back once the commit holding its item is done.</typeparam>
public sealed partial class GroupCommit<TItem, TResult> : IAsyncDisposable
{
    /// <summary>
    /// Only a batch smaller than this (and than <see cref="GroupCommitOptions.MaxBatch"/>) lingers: one that large already
    /// shares its commit well, and under a closed loop (callers that send again only once answered, a consumer's full
    /// prefetch) nothing more would come meanwhile.
    /// </summary>
    public const int LingerBelow = 8;

    private readonly Channel<Pending>[] _queues;
    private readonly Func<TItem, string>? _partitionKey;
    private readonly Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> _commit;
    private readonly GroupCommitOptions _options;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly Task[] _writers;

    /// <param name="name">What is committed, for logs and metrics (e.g. "ingress.receipts").</param>
    /// <param name="commit">
    /// Commits a batch in one transaction and returns one result per item, in order; throws when nothing was committed.
    /// It is never cancelled: an item taken into a batch is committed or failed, whatever its caller does meanwhile.
    /// </param>
    /// <param name="partitionKey">
    /// The entity an item changes: items of one key are committed by one writer, in order. Null: any writer takes any item.
    /// </param>
    public GroupCommit(
        string name, Func<IReadOnlyList<TItem>, CancellationToken, Task<IReadOnlyList<TResult>>> commit, GroupCommitOptions options, ILogger logger,
        Func<TItem, string>? partitionKey = null)
    {
        _name = name;
        _commit = commit;
        _options = options;
        _logger = logger;
        _partitionKey = partitionKey;
        // Bounded: a caller waits for room instead of memory growing (the callers in flight bound it anyway).
        var queues = partitionKey is null ? 1 : options.Writers;
        _queues = Enumerable.Range(0, queues).Select(_ => Channel.CreateBounded<Pending>(
            new BoundedChannelOptions(options.MaxBatch * options.Writers * 4 / queues)
            {
                SingleReader = queues > 1 || options.Writers == 1,
                FullMode = BoundedChannelFullMode.Wait,
            })).ToArray();
        _writers = Enumerable.Range(0, options.Writers).Select(i => Task.Run(() => WriteAsync(_queues[i % queues].Reader))).ToArray();
    }

    /// <summary>Waits until the commit holding <paramref name="item"/> is done and returns its result.</summary>
    /// <param name="cancellationToken">Stops waiting for room in the queue; an item already queued is committed regardless.</param>
    /// <param name="alone">
    /// Commit it in a transaction of its own, now: for an item that failed before (a message being retried), so that it
    /// cannot fail a batch of others again, and so that each of its attempts is exactly one write.
    /// </param>
    public async Task<TResult> SubmitAsync(TItem item, CancellationToken cancellationToken, bool alone = false)
    {
        if (alone)
        {
            GroupCommitMetrics.BatchSize.WithLabels(_name).Observe(1);
            return (await _commit([item], CancellationToken.None))[0];
        }

        var pending = new Pending(item);
        // A string's hash differs between processes, which is fine: a partition only has to hold within one.
        var queue = _partitionKey is null ? _queues[0] : _queues[(uint)StringComparer.Ordinal.GetHashCode(_partitionKey(item)) % (uint)_queues.Length];
        await queue.Writer.WriteAsync(pending, cancellationToken);
        return await pending.Result.Task;
    }

    private async Task WriteAsync(ChannelReader<Pending> reader)
    {
        var batch = new List<Pending>(_options.MaxBatch);
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            Take(reader, batch);
            if (batch.Count > 0 && batch.Count < Math.Min(LingerBelow, _options.MaxBatch) && _options.Linger > TimeSpan.Zero)
            {
                await Task.Delay(_options.Linger);
                Take(reader, batch);
            }

            if (batch.Count > 0)
            {
                await CommitAsync(batch);
                batch.Clear();
            }
        }
    }

    private void Take(ChannelReader<Pending> reader, List<Pending> batch)
    {
        while (batch.Count < _options.MaxBatch && reader.TryRead(out var pending))
        {
            batch.Add(pending);
        }
    }

    private async Task CommitAsync(List<Pending> batch)
    {
        GroupCommitMetrics.BatchSize.WithLabels(_name).Observe(batch.Count);
        try
        {
            IReadOnlyList<TResult> results;
            using (GroupCommitMetrics.Duration.WithLabels(_name).NewTimer())
            {
                results = await _commit(batch.ConvertAll(p => p.Item), CancellationToken.None);
            }

            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Result.TrySetResult(results[i]);
            }

            return;
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            // Which item failed is not known: each is tried alone, so each caller gets its own outcome.
            LogBatchFailed(_logger, _name, batch.Count, ex.GetType().Name, ex.Message);
            GroupCommitMetrics.SplitBatches.WithLabels(_name).Inc();
        }
        catch (Exception ex)
        {
            batch[0].Result.TrySetException(ex);
            return;
        }

        foreach (var pending in batch)
        {
            try
            {
                var results = await _commit([pending.Item], CancellationToken.None);
                pending.Result.TrySetResult(results[0]);
            }
            catch (Exception ex)
            {
                pending.Result.TrySetException(ex);
            }
        }
    }

    /// <summary>Commits what is queued, then stops: callers still in flight during a graceful shutdown get their answers.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }

        await Task.WhenAll(_writers);
    }

    private sealed class Pending(TItem item)
    {
        public TItem Item { get; } = item;

        public TaskCompletionSource<TResult> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "A {Name} batch of {Count} failed ({ErrorType}: {Error}); committing its items one by one")]
    private static partial void LogBatchFailed(ILogger logger, string name, int count, string errorType, string error);
}
