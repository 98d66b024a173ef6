namespace Pipeline.Persistence.Rooms;

/// <summary>
/// A LiveKit event id applied to a room. Its primary key makes an event count once even if it ever arrives in two
/// messages (Ingress already deduplicates by event id; this guards the room state against a slip elsewhere).
/// </summary>
public sealed class RoomEvent
{
    public required string EventId { get; set; }
    public required string RoomSid { get; set; }
    public required string Event { get; set; }
    public DateTime OccurredAt { get; set; }
    public DateTime AppliedAt { get; set; }
}
