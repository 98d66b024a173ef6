using Microsoft.EntityFrameworkCore;
using Pipeline.Hosting.Outbox;
using Pipeline.Persistence.Ingress;

namespace Pipeline.Ingress.Receipts;

public enum AcceptOutcome
{
    Accepted,

    /// <summary>The same (provider, dedup key) was accepted before: nothing was written, the caller still answers 2xx.</summary>
    Duplicate,
}

/// <summary>A verified, normalized delivery ready to be recorded.</summary>
public sealed record IncomingWebhook(
    Guid ReceiptId, string Provider, string DedupKey, DateTime ReceivedAt, string Headers, byte[] Body, IReadOnlyList<object> Messages);

/// <summary>
/// Records a receipt and its outbox rows in one transaction, then wakes the dispatcher. The unit of work is a
/// whole <see cref="IncomingWebhook"/>, so several can later share one commit without changing callers.
/// A duplicate is found by the unique (provider, dedup key) index refusing the insert, not by asking first: most
/// deliveries are new, and for them that saves a round trip (measured by `benchmarks/Pipeline.Benchmarks accept-path`).
/// </summary>
public sealed class ReceiptWriter(IngressDbContext db, OutboxSignal<IngressDbContext> signal)
{
    public async Task<AcceptOutcome> AcceptAsync(IncomingWebhook webhook, CancellationToken cancellationToken)
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
        foreach (var message in webhook.Messages)
        {
            db.Outbox.Enqueue(message, webhook.ReceiptId, webhook.ReceivedAt);
        }

        try
        {
            // One SaveChanges is one transaction: the receipt and its messages commit together or not at all.
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            if (await IsDuplicateAsync(webhook, CancellationToken.None))
            {
                return AcceptOutcome.Duplicate; // recorded before, or by a concurrent delivery of the same event
            }

            throw;
        }

        signal.Notify();
        return AcceptOutcome.Accepted;
    }

    private Task<bool> IsDuplicateAsync(IncomingWebhook webhook, CancellationToken cancellationToken) =>
        db.Receipts.AsNoTracking().AnyAsync(r => r.Provider == webhook.Provider && r.DedupKey == webhook.DedupKey, cancellationToken);
}
