using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Batching;
using Pipeline.Hosting.Outbox;
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
/// A duplicate is found by the unique (provider, dedup key) index refusing the insert, not by asking first: most
/// deliveries are new. When a batch is refused, the keys already recorded are looked up once, their deliveries
/// answered as duplicates, and the rest written again; a batch that still fails is written delivery by delivery, so
/// one bad row fails only its own request. Two deliveries of one key in one batch: the first is written, the second
/// is its duplicate.
/// </para>
/// </summary>
public sealed class ReceiptWriter : IAsyncDisposable
{
    public const string GroupCommitName = "ingress.receipts";
    public const string GroupCommitSection = "Ingress:GroupCommit";

    private readonly IServiceScopeFactory _scopes;
    private readonly OutboxSignal<IngressDbContext> _signal;
    private readonly GroupCommit<IncomingWebhook, AcceptOutcome> _commits;

    public ReceiptWriter(
        IServiceScopeFactory scopes, OutboxSignal<IngressDbContext> signal, IOptionsMonitor<GroupCommitOptions> options, ILogger<ReceiptWriter> logger)
    {
        _scopes = scopes;
        _signal = signal;
        _commits = new GroupCommit<IncomingWebhook, AcceptOutcome>(GroupCommitName, CommitAsync, options.Get(GroupCommitName), logger);
    }

    /// <summary>Returns once the receipt is committed (or found to be a duplicate); throws when it could not be written.</summary>
    public Task<AcceptOutcome> AcceptAsync(IncomingWebhook webhook, CancellationToken cancellationToken) =>
        _commits.SubmitAsync(webhook, cancellationToken);

    private async Task<IReadOnlyList<AcceptOutcome>> CommitAsync(IReadOnlyList<IncomingWebhook> batch, CancellationToken cancellationToken)
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

        await using var scope = _scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
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
            _signal.Notify();
        }

        return outcomes;
    }

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

    public ValueTask DisposeAsync() => _commits.DisposeAsync();
}
