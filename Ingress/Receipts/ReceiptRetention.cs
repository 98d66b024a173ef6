using Microsoft.EntityFrameworkCore;
using Pipeline.Hosting.Retention;
using Pipeline.Persistence.Ingress;

namespace Pipeline.Ingress.Receipts;

/// <summary>
/// Deletes receipts past <c>Ingress:ReceiptRetention</c>, the dedup window. A receipt is kept while any of its outbox
/// rows is unpublished: the row would then publish for a receipt that no longer exists, and a repeat of the delivery
/// would be accepted as new while its first copy is still on its way.
/// </summary>
public static class ReceiptRetention
{
    public static async Task<PurgedBatch> PurgeBatchAsync(IngressDbContext db, DateTime cutoff, int batchSize, CancellationToken cancellationToken) =>
        await db.Receipts
            .Where(r => r.ReceivedAt < cutoff && !db.Outbox.Any(o => o.ReceiptId == r.Id && o.SentAt == null))
            .OrderBy(r => r.ReceivedAt)
            .Take(batchSize)
            .ExecuteDeleteAsync(cancellationToken);
}
