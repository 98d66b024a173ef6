using Microsoft.EntityFrameworkCore;

namespace Pipeline.Persistence.Inbox;

/// <summary>
/// Applies a consumer's effect at most once per message id: the inbox row and the effect are saved by the same
/// SaveChanges (one transaction), so either both are there or neither is.
/// </summary>
public static class Inbox
{
    /// <returns>true when the effect was applied now, false when the message had been applied before.</returns>
    public static async Task<bool> ApplyOnceAsync(
        DbContext db, Guid messageId, string consumer, Func<CancellationToken, Task> applyEffect, CancellationToken cancellationToken)
    {
        var inbox = db.Set<InboxMessage>();
        if (await inbox.AsNoTracking().AnyAsync(x => x.MessageId == messageId && x.Consumer == consumer, cancellationToken))
        {
            return false;
        }

        inbox.Add(new InboxMessage { MessageId = messageId, Consumer = consumer, ProcessedAt = DateTime.UtcNow });
        await applyEffect(cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // A concurrent redelivery of the same message may have committed first; otherwise let retry handle it.
            db.ChangeTracker.Clear();
            if (await inbox.AsNoTracking().AnyAsync(x => x.MessageId == messageId && x.Consumer == consumer, CancellationToken.None))
            {
                return false;
            }

            throw;
        }
    }
}
