using Microsoft.EntityFrameworkCore;

namespace Pipeline.Persistence.Inbox;

/// <summary>
/// Applies a consumer's effect at most once per message id: the inbox row and the effect are saved in the same
/// transaction, so either both are there or neither is.
/// </summary>
public static class Inbox
{
    /// <summary>
    /// The effects of many messages and their inbox rows (message id, consumer) in one transaction, so that each effect
    /// is there if and only if its inbox row is. Messages applied before (or twice in the batch) are left out; <paramref name="applyEffects"/> gets
    /// the indexes of the others, in order, loads what it needs, changes the tracked entities, and returns the indexes it
    /// could not apply (they get no inbox row, so a later delivery tries again; the caller tells their callers why).
    /// When the commit is refused and the inbox shows that a redelivery of some of them committed first, the rest is
    /// applied again from a clean context (so <paramref name="applyEffects"/> must start from the database and forget what
    /// an earlier attempt prepared each time it is called; it is called with no indexes when every message turned out
    /// applied meanwhile); any other refusal is thrown: one write per attempt, the bus's retry policy decides about the next.
    /// </summary>
    /// <returns>For each message: true when its effect was applied now, false when it was applied before or skipped.</returns>
    public static async Task<bool[]> ApplyBatchOnceAsync(
        DbContext db, IReadOnlyList<Guid> messageIds, string consumer,
        Func<IReadOnlyList<int>, CancellationToken, Task<IReadOnlyCollection<int>>> applyEffects, CancellationToken cancellationToken)
    {
        var inbox = db.Set<InboxMessage>();
        var ids = messageIds.Distinct().ToList();
        var processed = await ProcessedAsync(inbox, consumer, ids, cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            var applied = new bool[messageIds.Count];
            var rows = new Dictionary<int, InboxMessage>();
            var seen = new HashSet<Guid>(processed);
            var now = DateTime.UtcNow;
            for (var i = 0; i < messageIds.Count; i++)
            {
                if (seen.Add(messageIds[i]))
                {
                    applied[i] = true;
                    rows[i] = new InboxMessage { MessageId = messageIds[i], Consumer = consumer, ProcessedAt = now };
                    inbox.Add(rows[i]);
                }
            }

            if (rows.Count == 0)
            {
                if (attempt > 0)
                {
                    await applyEffects([], cancellationToken); // lets the caller drop what the refused attempt prepared
                }

                return applied;
            }

            foreach (var skipped in await applyEffects(rows.Keys.ToList(), cancellationToken))
            {
                inbox.Remove(rows[skipped]);
                applied[skipped] = false;
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return applied;
            }
            catch (DbUpdateException)
            {
                db.ChangeTracker.Clear();
                var before = processed.Count;
                processed = await ProcessedAsync(inbox, consumer, ids, CancellationToken.None);
                if (processed.Count == before)
                {
                    throw; // not a redelivery that committed first: the batch is split, or the message retried
                }
            }
        }
    }

    private static async Task<HashSet<Guid>> ProcessedAsync(DbSet<InboxMessage> inbox, string consumer, List<Guid> ids, CancellationToken cancellationToken) =>
        (await inbox.AsNoTracking()
            .Where(x => x.Consumer == consumer && ids.Contains(x.MessageId))
            .Select(x => x.MessageId)
            .ToListAsync(cancellationToken))
        .ToHashSet();
}
