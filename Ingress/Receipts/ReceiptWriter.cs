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

        var db = services.GetRequiredService<IngressDbContext>();
        if (db.Database.IsNpgsql())
        {
            await WriteSetBasedAsync(db, batch, toWrite, outcomes, cancellationToken);
            toWrite.Clear();
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

        if (outcomes.Contains(AcceptOutcome.Accepted))
        {
            signal.Notify();
        }

        return outcomes;
    }

    /// <summary>
    /// PostgreSQL: the receipts in one statement over arrays that skips the keys already recorded (waiting, like the
    /// unique index, for a concurrent transaction holding the same key) and returns the ones it wrote, then the outbox
    /// rows of those, in one transaction: no retry round for duplicates, no tracked entities.
    /// </summary>
    private static async Task WriteSetBasedAsync(
        IngressDbContext db, IReadOnlyList<IncomingWebhook> batch, List<int> toWrite, AcceptOutcome[] outcomes, CancellationToken cancellationToken)
    {
        var webhooks = toWrite.Select(i => batch[i]).ToList();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var written = new HashSet<Guid>(webhooks.Count);
        await using (var insert = PostgreSqlArrays.Command(db, InsertReceiptsSql))
        {
            insert.Parameters.Add(PostgreSqlArrays.Column(webhooks, w => w.ReceiptId));
            insert.Parameters.Add(PostgreSqlArrays.Column(webhooks, w => w.Provider));
            insert.Parameters.Add(PostgreSqlArrays.Column(webhooks, w => w.DedupKey));
            insert.Parameters.Add(PostgreSqlArrays.Column(webhooks, w => w.ReceivedAt));
            insert.Parameters.Add(PostgreSqlArrays.Column(webhooks, w => w.Headers));
            insert.Parameters.Add(PostgreSqlArrays.Column(webhooks, w => w.Body));
            await using var reader = await insert.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                written.Add(reader.GetGuid(0));
            }
        }

        var rows = webhooks.Where(w => written.Contains(w.ReceiptId)).SelectMany(w => w.Outbox).ToList();
        if (rows.Count > 0)
        {
            await using var outbox = PostgreSqlArrays.Command(db, InsertOutboxSql);
            outbox.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.Id));
            outbox.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.ReceiptId));
            outbox.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.MessageType));
            outbox.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.Body));
            outbox.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.CreatedAt));
            outbox.Parameters.Add(PostgreSqlArrays.Column(rows, o => o.TraceParent));
            await outbox.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        foreach (var i in toWrite.Where(i => !written.Contains(batch[i].ReceiptId)))
        {
            outcomes[i] = AcceptOutcome.Duplicate; // recorded before, or by a concurrent delivery of the same event
        }
    }

    private const string InsertReceiptsSql = """
        INSERT INTO ingress_receipts ("Id", "Provider", "DedupKey", "ReceivedAt", "Headers", "Body")
        SELECT * FROM unnest($1, $2, $3, $4, $5, $6)
        ON CONFLICT ("Provider", "DedupKey") DO NOTHING
        RETURNING "Id"
        """;

    private const string InsertOutboxSql = """
        INSERT INTO ingress_outbox ("Id", "ReceiptId", "MessageType", "Body", "CreatedAt", "Attempts", "TraceParent")
        SELECT id, receipt_id, message_type, body, created_at, 0, trace_parent
        FROM unnest($1, $2, $3, $4, $5, $6) AS r(id, receipt_id, message_type, body, created_at, trace_parent)
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
