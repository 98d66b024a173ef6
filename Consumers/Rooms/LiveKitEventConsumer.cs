using MassTransit;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.Telemetry;
using Pipeline.Messages.Rooms;

namespace Pipeline.Consumers.Rooms;

/// <summary>
/// Folds one LiveKit event into its room, exactly once per message (the inbox) and once per LiveKit event id
/// (the room_events ledger: several LiveKit nodes send the same event; Ingress keeps one receipt per event id,
/// and the ledger keeps the room right even if a second message with that id ever got through); group-committed by
/// <see cref="RoomEventWriter"/>.
/// </summary>
public sealed partial class LiveKitEventConsumer(RoomEventWriter writer, ILogger<LiveKitEventConsumer> logger) : IConsumer<LiveKitEventV1>
{
    public const string Name = "rooms.livekit";

    public async Task Consume(ConsumeContext<LiveKitEventV1> context)
    {
        var e = context.Message;
        var messageId = context.MessageId ?? throw new PermanentMessageException("A LiveKit message without a MessageId cannot be deduplicated.");
        using var scope = logger.BeginScope(new Dictionary<string, object>
        {
            ["MessageId"] = messageId,
            ["ReceiptId"] = e.ReceiptId,
            ["LiveKitEventId"] = e.EventId,
            ["RoomSid"] = RoomEventFold.RoomSidOf(e) ?? "",
            ["Provider"] = "livekit",
        });

        using var effect = ConsumerEffect.Start(Name, messageId);
        var change = await writer.ApplyAsync(messageId, e, retry: context.FailedBefore(), context.CancellationToken);
        effect.Complete(change.Outcome != RoomOutcome.Redelivered);

        switch (change.Outcome)
        {
            case RoomOutcome.Redelivered:
                LogDuplicateMessage(logger, e.Event, e.EventId, messageId);
                break;
            case RoomOutcome.NotARoomEvent:
                LogNotARoomEvent(logger, e.Event, e.EventId);
                break;
            case RoomOutcome.EventAlreadyApplied:
                LogDuplicateEvent(logger, e.Event, e.EventId, messageId);
                break;
            default:
                var room = change.After!.Room;
                if (room.Status == RoomStatuses.Finished && change.StatusBefore != RoomStatuses.Finished)
                {
                    LogFinished(logger, room.Name, room.Sid, e.Event, change.After.Sessions.Count, room.PeakParticipants);
                }
                else
                {
                    LogApplied(logger, e.Event, room.Name, room.Sid, room.Status, room.CurrentParticipants, room.PeakParticipants);
                }

                break;
        }
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
