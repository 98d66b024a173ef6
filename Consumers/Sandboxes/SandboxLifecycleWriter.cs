using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Batching;
using Pipeline.Messages.Sandboxes;
using Pipeline.Persistence.Inbox;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>What one lifecycle message did: nothing (applied before), or the sandbox's state before and after it.</summary>
public readonly record struct SandboxChange(bool Applied, string? Before, string After, double BilledRunningSeconds);

/// <summary>
/// Applies lifecycle messages group-committed (<c>Sandboxes:GroupCommit</c>): the messages consumed together share one
/// transaction, with an inbox row each, and the messages of one sandbox are applied in order by one writer, so a busy
/// sandbox costs one row update per batch instead of a lost race per message.
/// </summary>
public sealed class SandboxLifecycleWriter : IAsyncDisposable
{
    public const string GroupCommitSection = "Sandboxes:GroupCommit";

    private readonly IServiceScopeFactory _scopes;
    private readonly GroupCommit<(Guid MessageId, SandboxLifecycleEventV1 Event), SandboxChange> _commits;

    public SandboxLifecycleWriter(IServiceScopeFactory scopes, IOptionsMonitor<GroupCommitOptions> options, ILogger<SandboxLifecycleWriter> logger)
    {
        _scopes = scopes;
        _commits = new(SandboxLifecycleConsumer.Name, CommitAsync, options.Get(SandboxLifecycleConsumer.Name), logger,
            item => item.Event.SandboxId);
    }

    /// <param name="retry">The message failed before: it is applied in a transaction of its own.</param>
    public Task<SandboxChange> ApplyAsync(Guid messageId, SandboxLifecycleEventV1 e, bool retry, CancellationToken cancellationToken) =>
        _commits.SubmitAsync((messageId, e), cancellationToken, alone: retry);

    private async Task<IReadOnlyList<SandboxChange>> CommitAsync(
        IReadOnlyList<(Guid MessageId, SandboxLifecycleEventV1 Event)> batch, CancellationToken cancellationToken)
    {
        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<SandboxesDbContext>();
        var changes = new SandboxChange[batch.Count];
        await Inbox.ApplyBatchOnceAsync(db, batch.Select(m => m.MessageId).ToList(), SandboxLifecycleConsumer.Name, async (indexes, ct) =>
        {
            Array.Clear(changes); // a second attempt starts over
            if (indexes.Count == 0)
            {
                return [];
            }

            var ids = indexes.Select(i => batch[i].Event.SandboxId).Distinct().ToList();
            var sandboxes = await db.Sandboxes.Where(s => ids.Contains(s.SandboxId)).ToDictionaryAsync(s => s.SandboxId, StringComparer.Ordinal, ct);
            var now = DateTime.UtcNow;
            foreach (var i in indexes)
            {
                var e = batch[i].Event;
                var current = sandboxes.GetValueOrDefault(e.SandboxId);
                var before = current?.State;
                var after = SandboxEventFold.Apply(current, e, now);
                after.Version++;
                if (current is null)
                {
                    db.Sandboxes.Add(after);
                    sandboxes[e.SandboxId] = after;
                }

                changes[i] = new SandboxChange(true, before, after.State, after.BilledRunningSeconds);
            }

            return [];
        }, cancellationToken);
        return changes; // those left out were applied before: default, Applied false
    }

    public ValueTask DisposeAsync() => _commits.DisposeAsync();
}
