using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Batching;
using Pipeline.Messages.Sandboxes;
using Pipeline.Persistence;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>What one lifecycle message did: nothing (applied before), or the sandbox's state before and after it.</summary>
public readonly record struct SandboxChange(bool Applied, string? Before, string After, double BilledRunningSeconds);

/// <summary>
/// Applies lifecycle messages group-committed (<c>Sandboxes:GroupCommit</c>): the messages consumed together share one
/// transaction, with an inbox row each, and the messages of one sandbox are applied in order by one writer, so a busy
/// sandbox costs one row update per batch instead of a lost race per message.
/// </summary>
public sealed class SandboxLifecycleWriter(IServiceScopeFactory scopes, IOptionsMonitor<GroupCommitOptions> options, ILogger<SandboxLifecycleWriter> logger)
    : InboxBatchWriter<SandboxesDbContext, (Guid MessageId, SandboxLifecycleEventV1 Event), SandboxChange>(
        SandboxLifecycleConsumer.Name, item => item.MessageId, scopes, options, logger, item => item.Event.SandboxId)
{
    public const string GroupCommitSection = "Sandboxes:GroupCommit";

    /// <param name="retry">The message failed before: it is applied in a transaction of its own.</param>
    public Task<SandboxChange> ApplyAsync(Guid messageId, SandboxLifecycleEventV1 e, bool retry, CancellationToken cancellationToken) =>
        SubmitAsync((messageId, e), cancellationToken, alone: retry);

    // Those left out were applied before: their change stays default, Applied false. On PostgreSQL the sandboxes are
    // read untracked and written set-based in one round trip (an insert of the new ones, an update of the others where
    // their version is still the one read, else the batch fails as EF's concurrency check would fail it); elsewhere
    // they are tracked.
    protected override async Task WriteAsync(InboxBatch batch, CancellationToken cancellationToken) =>
        await batch.ApplyOnceAsync(async (indexes, ct) =>
        {
            if (indexes.Count == 0)
            {
                return [];
            }

            var db = batch.Db;
            var setBased = db.Database.IsNpgsql();
            var ids = indexes.Select(i => batch.Items[i].Event.SandboxId).Distinct().ToList();
            var sandboxes = await (setBased ? db.Sandboxes.AsNoTracking() : db.Sandboxes)
                .Where(s => ids.Contains(s.SandboxId)).ToDictionaryAsync(s => s.SandboxId, StringComparer.Ordinal, ct);
            var read = sandboxes.Values.Select(s => (Row: s, Read: (object)s.Version)).ToList();
            var added = new List<Sandbox>();
            var now = DateTime.UtcNow;
            foreach (var i in indexes)
            {
                var e = batch.Items[i].Event;
                var current = sandboxes.GetValueOrDefault(e.SandboxId);
                var before = current?.State;
                var after = SandboxEventFold.Apply(current, e, now);
                after.Version++;
                if (current is null)
                {
                    added.Add(after);
                    sandboxes[e.SandboxId] = after;
                }

                batch.Results[i] = new SandboxChange(true, before, after.State, after.BilledRunningSeconds);
            }

            if (!setBased)
            {
                db.Sandboxes.AddRange(added);
                return [];
            }

            await new PostgreSqlWrites(db).Insert(added).Update(read).ExecuteAsync(ct);
            return [];
        }, cancellationToken);
}
