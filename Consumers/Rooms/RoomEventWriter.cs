using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Batching;
using Pipeline.Messages.Rooms;
using Pipeline.Persistence;
using Pipeline.Persistence.Rooms;

namespace Pipeline.Consumers.Rooms;

public enum RoomOutcome
{
    /// <summary>This message was applied before (the inbox has it).</summary>
    Redelivered,

    /// <summary>Folded into its room now.</summary>
    Applied,

    /// <summary>An event that changes no room: acknowledged with its inbox row, nothing else.</summary>
    NotARoomEvent,

    /// <summary>Another message with the same LiveKit event id was applied (the room_events ledger has it).</summary>
    EventAlreadyApplied,
}

/// <summary>What one LiveKit message did; the room's status before and the aggregate after only for <see cref="RoomOutcome.Applied"/>.</summary>
public readonly record struct RoomChange(RoomOutcome Outcome, string? StatusBefore, RoomAggregate? After);

/// <summary>
/// Folds LiveKit events into their rooms group-committed (<c>Rooms:GroupCommit</c>): the messages consumed together
/// share one transaction, with an inbox row each and a room_events ledger row per LiveKit event id, and the messages
/// of one room are applied in order by one writer, so a busy room costs one row update per batch instead of a commit
/// (and a race) per event. Within a batch a room is loaded once and each of its events folds into what the previous
/// one left.
/// </summary>
public sealed class RoomEventWriter(IServiceScopeFactory scopes, IOptionsMonitor<GroupCommitOptions> options, ILogger<RoomEventWriter> logger)
    : InboxBatchWriter<RoomsDbContext, (Guid MessageId, LiveKitEventV1 Event), RoomChange>(
        LiveKitEventConsumer.Name, item => item.MessageId, scopes, options, logger, item => RoomEventFold.RoomSidOf(item.Event) ?? "")
{
    public const string GroupCommitSection = "Rooms:GroupCommit";

    /// <param name="retry">The message failed before: it is applied in a transaction of its own.</param>
    public Task<RoomChange> ApplyAsync(Guid messageId, LiveKitEventV1 e, bool retry, CancellationToken cancellationToken) =>
        SubmitAsync((messageId, e), cancellationToken, alone: retry);

    // Those left out were applied before: their change stays default, Redelivered.
    protected override async Task WriteAsync(InboxBatch batch, CancellationToken cancellationToken) =>
        await batch.ApplyOnceAsync(async (indexes, ct) =>
        {
            var rooms = new Dictionary<string, RoomAggregate>(StringComparer.Ordinal);
            var ledgered = new HashSet<string>(StringComparer.Ordinal);
            var now = DateTime.UtcNow;
            foreach (var i in indexes)
            {
                batch.Results[i] = await FoldAsync(batch.Db, batch.Items[i].Event, rooms, ledgered, now, ct);
            }

            return [];
        }, cancellationToken);

    /// <summary>One event folded into its room, as loaded from the database or as this batch's earlier events left it.</summary>
    private static async Task<RoomChange> FoldAsync(
        RoomsDbContext db, LiveKitEventV1 e, Dictionary<string, RoomAggregate> rooms, HashSet<string> ledgered, DateTime now, CancellationToken ct)
    {
        if (RoomEventFold.RoomSidOf(e) is not { } roomSid)
        {
            return new RoomChange(RoomOutcome.NotARoomEvent, null, null);
        }

        // Without an event id only the inbox and the idempotent merge guard the room (Ingress keys such a receipt by a
        // hash of the body). Ingress hashes longer ids to fit; the cut only guards older messages.
        var ledgerId = string.IsNullOrWhiteSpace(e.EventId) ? null
            : e.EventId.Length <= ColumnLengths.RoomSid ? e.EventId : e.EventId[..ColumnLengths.RoomSid];
        if (ledgerId is not null && (ledgered.Contains(ledgerId) || await db.Events.AsNoTracking().AnyAsync(x => x.EventId == ledgerId, ct)))
        {
            return new RoomChange(RoomOutcome.EventAlreadyApplied, null, null);
        }

        var current = rooms.TryGetValue(roomSid, out var known)
            ? await WithEgressAsync(db, known, e.Egress?.EgressId, ct)
            : await LoadAsync(db, roomSid, e.Egress?.EgressId, ct);
        var statusBefore = current?.Room.Status;
        var after = RoomEventFold.Apply(current, e, now);
        after.Room.Version++;
        after.Room.EventCount++;
        Track(db, after);
        rooms[roomSid] = after;
        if (ledgerId is not null)
        {
            ledgered.Add(ledgerId);
            db.Events.Add(new RoomEvent
            {
                EventId = ledgerId,
                RoomSid = after.Room.Sid,
                Event = e.Event,
                OccurredAt = e.CreatedAt.UtcDateTime,
                AppliedAt = now,
            });
        }

        return new RoomChange(RoomOutcome.Applied, statusBefore, after);
    }

    private static async Task<RoomAggregate?> LoadAsync(RoomsDbContext db, string roomSid, string? egressId, CancellationToken ct)
    {
        var room = await db.Rooms.FirstOrDefaultAsync(r => r.Sid == roomSid, ct);
        if (room is null)
        {
            return null;
        }

        return new RoomAggregate
        {
            Room = room,
            Sessions = await db.Sessions.Where(s => s.RoomSid == roomSid).ToListAsync(ct),
            Tracks = await db.Tracks.Where(t => t.RoomSid == roomSid).ToListAsync(ct),
            Egress = await db.Egress.Where(g => g.RoomSid == roomSid || g.EgressId == egressId).ToListAsync(ct),
        };
    }

    /// <summary>A room this batch already holds, with the egress an event names if it was recorded under another room.</summary>
    private static async Task<RoomAggregate> WithEgressAsync(RoomsDbContext db, RoomAggregate room, string? egressId, CancellationToken ct)
    {
        if (egressId is not null && !room.Egress.Any(g => g.EgressId == egressId)
            && await db.Egress.FirstOrDefaultAsync(g => g.EgressId == egressId, ct) is { } egress)
        {
            room.Egress.Add(egress);
        }

        return room;
    }

    /// <summary>Rows the fold created are added; the loaded ones are already tracked.</summary>
    private static void Track(RoomsDbContext db, RoomAggregate aggregate)
    {
        AddIfNew(db, aggregate.Room);
        aggregate.Sessions.ForEach(s => AddIfNew(db, s));
        aggregate.Tracks.ForEach(t => AddIfNew(db, t));
        aggregate.Egress.ForEach(g => AddIfNew(db, g));
    }

    private static void AddIfNew<T>(RoomsDbContext db, T entity) where T : class
    {
        if (db.Entry(entity).State == EntityState.Detached)
        {
            db.Add(entity);
        }
    }
}
