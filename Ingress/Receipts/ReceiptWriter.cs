using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Batching;
using Pipeline.Hosting.Outbox;
using Pipeline.Persistence;
using Pipeline.Persistence.Ingress;
using Pipeline.Persistence.Outbox;

namespace Pipeline.Ingress.Receipts;

public enum AcceptOutcome
{
    Accepted,

    /// <summary>The same (provider, dedup key) was accepted before: nothing was written, the caller still answers 2xx.</summary>
    Duplicate,
}

/// <summary>
/// A verified, normalized delivery ready to be recorded, with its outbox rows already built (in the request, so they
/// carry its trace).
/// </summary>
public sealed record IncomingWebhook(
    Guid ReceiptId, string Provider, string DedupKey, DateTime ReceivedAt, string Headers, byte[] Body, IReadOnlyList<OutboxMessage> Outbox);

/// <summary>
/// Records receipts and their outbox rows, group-committed: the deliveries that arrive together share one
/// transaction (<c>Ingress:GroupCommit</c>), and each request is answered only after the commit that holds its
/// receipt. A receipt and its outbox rows are always in the same transaction.
/// <para>
/// On PostgreSQL the receipts are inserted in one statement that skips the keys already recorded and returns the
/// others (<see cref="WriteSetBasedAsync"/>). Elsewhere a duplicate is found by the unique (provider, dedup key) index
/// refusing the insert, not by asking first: most
/// deliveries are new. When a batch is refused, the keys already recorded are looked up once, their deliveries
/// answered as duplicates, and the rest written again; a batch that still fails is written delivery by delivery, so
/// one bad row fails only its own request. Two deliveries of one key in one batch: the first is written, the second
/// is its duplicate.
/// </para>
/// </summary>
public sealed class ReceiptWriter(
    IServiceScopeFactory scopes, OutboxSignal<IngressDbContext> signal, IOptionsMonitor<GroupCommitOptions> options, ILogger<ReceiptWriter> logger)
    : BatchWriter<IncomingWebhook, AcceptOutcome>(GroupCommitName, scopes, options, logger)
{
    public const string GroupCommitName = "ingress.receipts";
    public const string GroupCommitSection = "Ingress:GroupCommit";

    /// <summary>
    /// The receipts' default <see cref="GroupCommitOptions.Linger"/>: 2 ms. At 1,000 webhooks/s it made receipt commits hold
    /// 5-6 receipts instead of 2-3, and the machine spent 1.60-1.72 ms of CPU an event instead of 1.79-1.96, with no
    /// measurable change in the latency of the 200 (<c>benchmarks/e2e</c>, docs/performance.md).
    /// </summary>
    public static readonly TimeSpan Linger = TimeSpan.FromMilliseconds(2);

    /// <summary>Returns once the receipt is committed (or found to be a duplicate); throws when it could not be written.</summary>
    public Task<AcceptOutcome> AcceptAsync(IncomingWebhook webhook, CancellationToken cancellationToken) =>
        SubmitAsync(webhook, cancellationToken);

    protected override async Task<IReadOnlyList<AcceptOutcome>> CommitAsync(
        IServiceProvider services, IReadOnlyList<IncomingWebhook> batch, CancellationToken cancellationToken)
    {
        var outcomes = new AcceptOutcome[batch.Count];
        var firsts = new HashSet<(string, string)>();
        var toWrite = new List<int>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            if (firsts.Add((batch[i].Provider, batch[i].DedupKey)))
            {
                toWrite.Add(i);
            }
            else
            {
                outcomes[i] = AcceptOutcome.Duplicate;
            }
        }

        // The rows are committed leased to this process's dispatcher, which publishes them from memory (no claim).
        var rows = toWrite.SelectMany(i => batch[i].Outbox).ToList();
        var leased = signal.TryLease(rows, DateTime.UtcNow) ? rows.Count : 0;
        List<OutboxMessage> committed;
        try
        {
            committed = await WriteAsync(services.GetRequiredService<IngressDbContext>(), batch, toWrite, outcomes, cancellationToken);
        }
        catch
        {
            signal.Abandon(leased);
            throw;
        }

        if (leased > 0)
        {
            signal.Handoff(committed, leased);
        }
        else if (committed.Count > 0)
        {
            signal.Notify();
        }

        return outcomes;
    }

    /// <returns>The outbox rows committed: those of the deliveries not found to be duplicates.</returns>
    private static async Task<List<OutboxMessage>> WriteAsync(
        IngressDbContext db, IReadOnlyList<IncomingWebhook> batch, List<int> toWrite, AcceptOutcome[] outcomes, CancellationToken cancellationToken)
    {
        if (db.Database.IsNpgsql())
        {
            return await WriteSetBasedAsync(db, batch, toWrite, outcomes, cancellationToken);
        }

        for (var attempt = 0; toWrite.Count > 0; attempt++)
        {
            foreach (var webhook in toWrite.Select(i => batch[i]))
            {
                db.Receipts.Add(new Receipt
                {
                    Id = webhook.ReceiptId,
                    Provider = webhook.Provider,
                    DedupKey = webhook.DedupKey,
                    ReceivedAt = webhook.ReceivedAt,
                    Headers = webhook.Headers,
                    Body = webhook.Body,
                });
                db.Outbox.AddRange(webhook.Outbox);
            }

            try
            {
                // One SaveChanges is one transaction: every receipt and its messages commit together or not at all.
                await db.SaveChangesAsync(cancellationToken);
                break;
            }
            catch (DbUpdateException) when (attempt == 0)
            {
                db.ChangeTracker.Clear();
                var recorded = await RecordedAsync(db, toWrite.Select(i => batch[i]).ToList(), cancellationToken);
                if (recorded.Count == 0)
                {
                    throw; // not a duplicate: the batch is split, and each delivery gets its own answer
                }

                foreach (var i in toWrite.Where(i => recorded.Contains((batch[i].Provider, batch[i].DedupKey))))
                {
                    outcomes[i] = AcceptOutcome.Duplicate; // recorded before, or by a concurrent delivery of the same event
                }

                toWrite.RemoveAll(i => outcomes[i] == AcceptOutcome.Duplicate);
            }
        }

        return toWrite.SelectMany(i => batch[i].Outbox).ToList();
    }

    /// <summary>
    /// PostgreSQL: one statement, and so one transaction and one round trip, writes the batch. It inserts the receipts
    /// from arrays, skipping the keys already recorded (waiting, like the unique index, for a concurrent transaction
    /// holding the same key), and the outbox rows of the receipts it wrote, and returns those receipts' ids. It commits
    /// when it ends (autocommit, flushed like any commit): no BEGIN, no COMMIT, no retry round for duplicates.
    /// </summary>
    private static async Task<List<OutboxMessage>> WriteSetBasedAsync(
        IngressDbContext db, IReadOnlyList<IncomingWebhook> batch, List<int> toWrite, AcceptOutcome[] outcomes, CancellationToken cancellationToken)
    {
        var webhooks = toWrite.Select(i => batch[i]).ToList();
        var rows = webhooks.SelectMany(w => w.Outbox).ToList();
        var written = new HashSet<Guid>(webhooks.Count);
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var insert = PostgreSqlArrays.Command(db, InsertSql);
            insert.Parameters.Add(PostgreSqlArrays.Column(webhooks, w => w.ReceiptId));
            insert.Parameters.Add(PostgreSqlArrays.Column(webhooks, w => w.Provider));
            insert.Parameters.Add(PostgreSqlArrays.Column(webhooks, w => w.DedupKey));
            insert.Parameters.Add(PostgreSqlArrays.Column(webhooks, w => w.ReceivedAt));
            insert.Parameters.Add(PostgreSqlArrays.Column(webhooks, w => w.Headers));
            insert.Parameters.Add(PostgreSqlArrays.Column(webhooks, w => w.Body));
            insert.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.Id));
            insert.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.ReceiptId));
            insert.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.MessageType));
            insert.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.Body));
            insert.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.CreatedAt));
            insert.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.TraceParent));
            insert.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.LockedBy));
            insert.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.LockedUntil));
            await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                written.Add(reader.GetGuid(0));
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        foreach (var i in toWrite.Where(i => !written.Contains(batch[i].ReceiptId)))
        {
            outcomes[i] = AcceptOutcome.Duplicate; // recorded before, or by a concurrent delivery of the same event
        }

        return rows.Where(o => written.Contains(o.ReceiptId!.Value)).ToList();
    }

    private const string InsertSql = """
        WITH receipts AS (
            INSERT INTO ingress_receipts ("Id", "Provider", "DedupKey", "ReceivedAt", "Headers", "Body")
            SELECT * FROM unnest($1, $2, $3, $4, $5, $6)
            ON CONFLICT ("Provider", "DedupKey") DO NOTHING
            RETURNING "Id"),
        outbox AS (
            INSERT INTO ingress_outbox ("Id", "ReceiptId", "MessageType", "Body", "CreatedAt", "Attempts", "TraceParent", "LockedBy", "LockedUntil")
            SELECT id, receipt_id, message_type, body, created_at, 0, trace_parent, locked_by, locked_until
            FROM unnest($7, $8, $9, $10, $11, $12, $13, $14)
                AS r(id, receipt_id, message_type, body, created_at, trace_parent, locked_by, locked_until)
            WHERE receipt_id IN (SELECT "Id" FROM receipts))
        SELECT "Id" FROM receipts
        """;

    private static async Task<HashSet<(string, string)>> RecordedAsync(
        IngressDbContext db, List<IncomingWebhook> webhooks, CancellationToken cancellationToken)
    {
        var keys = webhooks.Select(w => w.DedupKey).Distinct().ToList();
        var found = await db.Receipts.AsNoTracking()
            .Where(r => keys.Contains(r.DedupKey))
            .Select(r => new { r.Provider, r.DedupKey })
            .ToListAsync(cancellationToken);
        var wanted = webhooks.Select(w => (w.Provider, w.DedupKey)).ToHashSet();
        return found.Select(r => (r.Provider, r.DedupKey)).Where(wanted.Contains).ToHashSet();
    }
}
