using Microsoft.EntityFrameworkCore;
using Pipeline.Hosting.Retention;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>
/// Deletes killed sandboxes that nothing has changed for <c>Sandboxes:KilledRetention</c> (their own clock, not the
/// sender's). Running and paused sandboxes are never deleted, however old. A consumer working on a sandbox while it is
/// deleted loses its optimistic-concurrency check and retries against what is left.
/// </summary>
public static class SandboxRetention
{
    public static async Task<PurgedBatch> PurgeBatchAsync(SandboxesDbContext db, DateTime cutoff, int batchSize, CancellationToken cancellationToken) =>
        await db.Sandboxes
            .Where(s => s.State == SandboxStates.Killed && s.UpdatedAt < cutoff)
            .OrderBy(s => s.UpdatedAt)
            .Take(batchSize)
            .ExecuteDeleteAsync(cancellationToken);
}
