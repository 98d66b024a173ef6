namespace Pipeline.Persistence.Rooms;

/// <summary>One LiveKit room instance (one room sid) as its events have described it so far.</summary>
public sealed class Room
{
    /// <summary>LiveKit's room sid (RM_…): a name reused after the room finished gets a new sid.</summary>
    public required string Sid { get; set; }

    public required string Name { get; set; }

    /// <summary>active or finished; finished is final.</summary>
    public required string Status { get; set; }

    /// <summary>When the room was created (room_started, or the room's creation time in any event).</summary>
    public DateTime? StartedAt { get; set; }

    public DateTime? FinishedAt { get; set; }

    /// <summary>The earliest event time seen; orders rooms whose start has not been seen.</summary>
    public DateTime FirstEventAt { get; set; }

    public DateTime LastEventAt { get; set; }

    /// <summary>Open participant sessions.</summary>
    public int CurrentParticipants { get; set; }

    /// <summary>The most sessions open at the same moment, recomputed from the session intervals.</summary>
    public int PeakParticipants { get; set; }

    /// <summary>Distinct LiveKit events applied to this room.</summary>
    public int EventCount { get; set; }

    public DateTime UpdatedAt { get; set; }

    /// <summary>Optimistic concurrency: two events for one room never overwrite each other.</summary>
    public int Version { get; set; }
}
