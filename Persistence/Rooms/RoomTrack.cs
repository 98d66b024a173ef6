namespace Pipeline.Persistence.Rooms;

/// <summary>One published track (one track sid) in one room.</summary>
public sealed class RoomTrack
{
    public required string RoomSid { get; set; }
    public required string TrackSid { get; set; }
    public string? ParticipantSid { get; set; }

    /// <summary>AUDIO, VIDEO or DATA.</summary>
    public string? Type { get; set; }

    /// <summary>CAMERA, MICROPHONE, SCREEN_SHARE, …</summary>
    public string? Source { get; set; }

    public string? Name { get; set; }
    public string? MimeType { get; set; }
    public DateTime? PublishedAt { get; set; }
    public DateTime? UnpublishedAt { get; set; }

    /// <summary>unpublished (track_unpublished), participant_left or room_finished; null while published.</summary>
    public string? EndReason { get; set; }
}
