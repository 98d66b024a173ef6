namespace Pipeline.Persistence.Rooms;

/// <summary>One egress (recording or stream) of a room, as its egress events have reported it.</summary>
public sealed class EgressResult
{
    public required string EgressId { get; set; }
    public required string RoomSid { get; set; }
    public string? RoomName { get; set; }

    /// <summary>starting, active, ending, complete, failed, aborted or limit_reached.</summary>
    public required string Status { get; set; }

    /// <summary>The time of the event that set <see cref="Status"/>: a less advanced or older report never replaces it.</summary>
    public DateTime StatusAt { get; set; }

    public DateTime? StartedAt { get; set; }
    public DateTime? EndedAt { get; set; }
    public string? Error { get; set; }

    /// <summary>Files, playlists and stream URLs, as a JSON array of strings.</summary>
    public string? Locations { get; set; }
}
