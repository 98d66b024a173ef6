using Microsoft.EntityFrameworkCore;
using Pipeline.Hosting.Retention;
using Pipeline.Persistence.Rooms;

namespace Pipeline.Consumers.Rooms;

/// <summary>
/// Deletes finished rooms that nothing has changed for <c>Rooms:FinishedRetention</c> (their own clock, not LiveKit's),
/// with their participant sessions, tracks, egress results and applied event ids, in one short transaction per batch.
/// Active rooms are never deleted, however old.
/// </summary>
public static class RoomRetention
{
    public const string Related = "sessions, tracks, egress results and events";

    public static async Task<PurgedBatch> PurgeBatchAsync(RoomsDbContext db, DateTime cutoff, int batchSize, CancellationToken cancellationToken)
    {
        var expired = db.Rooms.Where(r => r.Status == RoomStatuses.Finished && r.UpdatedAt < cutoff);
        var sids = await expired.OrderBy(r => r.UpdatedAt).Take(batchSize).Select(r => r.Sid).ToListAsync(cancellationToken);
        if (sids.Count == 0)
        {
            return 0;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The rooms first, their expiry checked again: a room that took an event since it was selected stays, and its
        // rows with it. A consumer applying an event to a room deleted here loses its optimistic-concurrency check,
        // rolls back (its new rows too) and retries against what is left.
        var rooms = await expired.Where(r => sids.Contains(r.Sid)).ExecuteDeleteAsync(cancellationToken);
        var related = 0;
        if (rooms > 0)
        {
            related += await db.Sessions.Where(x => sids.Contains(x.RoomSid) && !db.Rooms.Any(r => r.Sid == x.RoomSid)).ExecuteDeleteAsync(cancellationToken);
            related += await db.Tracks.Where(x => sids.Contains(x.RoomSid) && !db.Rooms.Any(r => r.Sid == x.RoomSid)).ExecuteDeleteAsync(cancellationToken);
            related += await db.Egress.Where(x => sids.Contains(x.RoomSid) && !db.Rooms.Any(r => r.Sid == x.RoomSid)).ExecuteDeleteAsync(cancellationToken);
            related += await db.Events.Where(x => sids.Contains(x.RoomSid) && !db.Rooms.Any(r => r.Sid == x.RoomSid)).ExecuteDeleteAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new PurgedBatch(rooms, related);
    }
}
