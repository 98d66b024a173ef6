namespace Pipeline.Persistence.Rooms;

/// <summary>One participant connection (one participant sid) in one room, from join to leave.</summary>
public sealed class ParticipantSession
{
    public required string RoomSid { get; set; }
    public required string ParticipantSid { get; set; }
    public required string Identity { get; set; }
    public string? Name { get; set; }

    /// <summary>The earliest join time known: participant_joined, or the participant's joinedAt in any event.</summary>
    public DateTime? JoinedAt { get; set; }

    public DateTime? LeftAt { get; set; }

    public double? DurationSeconds { get; set; }

    /// <summary>left, connection_aborted or room_finished; null while the session is open.</summary>
    public string? EndReason { get; set; }
}
