using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

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
    /// <remarks>
    /// On PostgreSQL the inbox rows are inserted first, in one statement (<c>ON CONFLICT DO NOTHING RETURNING</c>), in
    /// the caller's transaction or one of its own that it commits: what the statement returns is what this transaction
    /// applies. A redelivery being applied concurrently holds its row's key until it ends, so the statement waits for
    /// it and then skips the message or takes it; nothing is tried twice. A refused commit is thrown.
    /// </remarks>
    /// <returns>For each message: true when its effect was applied now, false when it was applied before or skipped.</returns>
    public static async Task<bool[]> ApplyBatchOnceAsync(
        DbContext db, IReadOnlyList<Guid> messageIds, string consumer,
        Func<IReadOnlyList<int>, CancellationToken, Task<IReadOnlyCollection<int>>> applyEffects, CancellationToken cancellationToken)
    {
        if (db.Database.IsNpgsql())
        {
            return await ApplyOnPostgreSqlAsync(db, messageIds, consumer, applyEffects, cancellationToken);
        }

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

    private static async Task<bool[]> ApplyOnPostgreSqlAsync(
        DbContext db, IReadOnlyList<Guid> messageIds, string consumer,
        Func<IReadOnlyList<int>, CancellationToken, Task<IReadOnlyCollection<int>>> applyEffects, CancellationToken cancellationToken)
    {
        var table = Table(db);
        await using var own = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        // A refused statement aborts the whole transaction anyway: no savepoint round trips around SaveChanges.
        db.Database.AutoSavepointsEnabled = false;

        // Sorted, so that two transactions inserting overlapping messages take their keys in the same order.
        var ids = messageIds.Distinct().Order().ToArray();
        var inserted = new HashSet<Guid>(ids.Length);
        await using (var insert = PostgreSqlArrays.Command(db, $"""
            INSERT INTO {table} ("MessageId", "Consumer", "ProcessedAt") SELECT unnest($1), $2, $3
            ON CONFLICT DO NOTHING RETURNING "MessageId"
            """))
        {
            insert.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = ids });
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = consumer });
            insert.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = DateTime.UtcNow });
            await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                inserted.Add(reader.GetGuid(0));
            }
        }

        var applied = new bool[messageIds.Count];
        var indexes = new List<int>(inserted.Count);
        for (var i = 0; i < messageIds.Count; i++)
        {
            if (inserted.Remove(messageIds[i])) // the first of a message's copies in the batch
            {
                applied[i] = true;
                indexes.Add(i);
            }
        }

        if (indexes.Count > 0)
        {
            var skipped = await applyEffects(indexes, cancellationToken);
            if (skipped.Count > 0)
            {
                foreach (var i in skipped)
                {
                    applied[i] = false;
                }

                await using var delete = PostgreSqlArrays.Command(db, $"""DELETE FROM {table} WHERE "Consumer" = $1 AND "MessageId" = ANY($2)""");
                delete.Parameters.Add(new NpgsqlParameter<string> { TypedValue = consumer });
                delete.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = skipped.Select(i => messageIds[i]).ToArray() });
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }

            await db.SaveChangesAsync(cancellationToken);
        }

        if (own is not null)
        {
            await own.CommitAsync(cancellationToken);
        }

        return applied;
    }

    private static string Table(DbContext db)
    {
        var entity = db.Model.FindEntityType(typeof(InboxMessage)) ?? throw new InvalidOperationException($"{db.GetType().Name} has no inbox (MapInbox).");
        return db.GetService<ISqlGenerationHelper>().DelimitIdentifier(entity.GetTableName()!, entity.GetSchema());
    }

    private static async Task<HashSet<Guid>> ProcessedAsync(DbSet<InboxMessage> inbox, string consumer, List<Guid> ids, CancellationToken cancellationToken) =>
        (await inbox.AsNoTracking()
            .Where(x => x.Consumer == consumer && ids.Contains(x.MessageId))
            .Select(x => x.MessageId)
            .ToListAsync(cancellationToken))
        .ToHashSet();
}
