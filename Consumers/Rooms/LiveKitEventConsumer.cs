using MassTransit;
using Microsoft.EntityFrameworkCore;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.Telemetry;
using Pipeline.Messages.Rooms;
using Pipeline.Persistence;
using Pipeline.Persistence.Inbox;
using Pipeline.Persistence.Rooms;

namespace Pipeline.Consumers.Rooms;

/// <summary>
/// Folds one LiveKit event into its room, exactly once per message (the inbox) and once per LiveKit event id
/// (the room_events ledger: several LiveKit nodes send the same event; Ingress keeps one receipt per event id,
/// and the ledger keeps the room right even if a second message with that id ever got through).
/// </summary>
public sealed partial class LiveKitEventConsumer(RoomsDbContext db, ILogger<LiveKitEventConsumer> logger) : IConsumer<LiveKitEventV1>
{
    public const string Name = "rooms.livekit";

    public async Task Consume(ConsumeContext<LiveKitEventV1> context)
    {
        var e = context.Message;
        var messageId = context.MessageId ?? throw new PermanentMessageException("A LiveKit message without a MessageId cannot be deduplicated.");
        var roomSid = RoomEventFold.RoomSidOf(e);
        using var scope = logger.BeginScope(new Dictionary<string, object>
        {
            ["MessageId"] = messageId,
            ["ReceiptId"] = e.ReceiptId,
            ["LiveKitEventId"] = e.EventId,
            ["RoomSid"] = roomSid ?? "",
            ["Provider"] = "livekit",
        });

        var outcome = Outcome.Applied;
        string? statusBefore = null;
        RoomAggregate? after = null;
        using var effect = ConsumerEffect.Start(Name, messageId);
        var applied = await Inbox.ApplyOnceAsync(db, messageId, Name, async ct =>
        {
            if (roomSid is null)
            {
                outcome = Outcome.NotARoomEvent;
                return;
            }

            // Without an event id only the inbox and the idempotent merge guard the room (Ingress keys such a
            // receipt by a hash of the body). Ingress hashes longer ids to fit; the cut only guards older messages.
            var ledgerId = string.IsNullOrWhiteSpace(e.EventId) ? null
                : e.EventId.Length <= ColumnLengths.RoomSid ? e.EventId : e.EventId[..ColumnLengths.RoomSid];
            if (ledgerId is not null && await db.Events.AsNoTracking().AnyAsync(x => x.EventId == ledgerId, ct))
            {
                outcome = Outcome.EventAlreadyApplied;
                return;
            }

            var current = await LoadAsync(roomSid, e.Egress?.EgressId, ct);
            statusBefore = current?.Room.Status;
            after = RoomEventFold.Apply(current, e, DateTime.UtcNow);
            after.Room.Version++;
            after.Room.EventCount++;
            Track(after);
            if (ledgerId is not null)
            {
                db.Events.Add(new RoomEvent
                {
                    EventId = ledgerId,
                    RoomSid = after.Room.Sid,
                    Event = e.Event,
                    OccurredAt = e.CreatedAt.UtcDateTime,
                    AppliedAt = DateTime.UtcNow,
                });
            }
        }, context.CancellationToken);
        effect.Complete(applied);

        if (!applied)
        {
            LogDuplicateMessage(logger, e.Event, e.EventId, messageId);
        }
        else if (outcome == Outcome.NotARoomEvent)
        {
            LogNotARoomEvent(logger, e.Event, e.EventId);
        }
        else if (outcome == Outcome.EventAlreadyApplied)
        {
            LogDuplicateEvent(logger, e.Event, e.EventId, messageId);
        }
        else if (after!.Room.Status == RoomStatuses.Finished && statusBefore != RoomStatuses.Finished)
        {
            LogFinished(logger, after.Room.Name, after.Room.Sid, e.Event, after.Sessions.Count, after.Room.PeakParticipants);
        }
        else
        {
            LogApplied(logger, e.Event, after.Room.Name, after.Room.Sid, after.Room.Status, after.Room.CurrentParticipants, after.Room.PeakParticipants);
        }
    }

    private async Task<RoomAggregate?> LoadAsync(string roomSid, string? egressId, CancellationToken ct)
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

    /// <summary>Rows the fold created are added; the loaded ones are already tracked.</summary>
    private void Track(RoomAggregate aggregate)
    {
        AddIfNew(aggregate.Room);
        aggregate.Sessions.ForEach(AddIfNew);
        aggregate.Tracks.ForEach(AddIfNew);
        aggregate.Egress.ForEach(AddIfNew);
    }

    private void AddIfNew<T>(T entity) where T : class
    {
        if (db.Entry(entity).State == EntityState.Detached)
        {
            db.Add(entity);
        }
    }

    private enum Outcome
    {
        Applied,
        NotARoomEvent,
        EventAlreadyApplied,
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Room {RoomName} ({RoomSid}): {LiveKitEvent} applied; {Status}, {Participants} participants, peak {Peak}")]
    private static partial void LogApplied(ILogger logger, string liveKitEvent, string roomName, string roomSid, string status, int participants, int peak);

    [LoggerMessage(Level = LogLevel.Information, Message = "Room {RoomName} ({RoomSid}) finished ({LiveKitEvent}): {Sessions} sessions, peak {Peak} participants")]
    private static partial void LogFinished(ILogger logger, string roomName, string roomSid, string liveKitEvent, int sessions, int peak);

    [LoggerMessage(Level = LogLevel.Information, Message = "LiveKit {LiveKitEvent} {LiveKitEventId} does not change a room; acknowledged without effect")]
    private static partial void LogNotARoomEvent(ILogger logger, string liveKitEvent, string liveKitEventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "LiveKit {LiveKitEvent} {LiveKitEventId} message {MessageId} was applied before; acknowledged without effect")]
    private static partial void LogDuplicateMessage(ILogger logger, string liveKitEvent, string liveKitEventId, Guid messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "LiveKit {LiveKitEvent} {LiveKitEventId} was already applied under another message; {MessageId} acknowledged without effect")]
    private static partial void LogDuplicateEvent(ILogger logger, string liveKitEvent, string liveKitEventId, Guid messageId);
}
