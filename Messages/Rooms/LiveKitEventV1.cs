namespace Pipeline.Messages.Rooms;

/// <summary>One LiveKit webhook event (room, participant, track, egress, ingress), normalized from protojson.</summary>
public sealed record LiveKitEventV1
{
    /// <summary>LiveKit's event id (EV_…): the same on retries and from every node that sends it.</summary>
    public required string EventId { get; init; }

    /// <summary>room_started, participant_joined, egress_ended, … (unknown names are passed through).</summary>
    public required string Event { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }
    public LiveKitRoomV1? Room { get; init; }
    public LiveKitParticipantV1? Participant { get; init; }
    public LiveKitTrackV1? Track { get; init; }
    public LiveKitEgressV1? Egress { get; init; }
    public LiveKitIngressV1? Ingress { get; init; }
    public required Guid ReceiptId { get; init; }
}

public sealed record LiveKitRoomV1
{
    public required string Sid { get; init; }
    public required string Name { get; init; }
    public DateTimeOffset? CreationTime { get; init; }
    public int? EmptyTimeout { get; init; }
    public int? MaxParticipants { get; init; }
    public int? NumParticipants { get; init; }
    public string? Metadata { get; init; }
}

public sealed record LiveKitParticipantV1
{
    public required string Sid { get; init; }
    public required string Identity { get; init; }
    public string? Name { get; init; }
    public string? State { get; init; }
    public string? Kind { get; init; }
    public DateTimeOffset? JoinedAt { get; init; }
    public string? Metadata { get; init; }
}

public sealed record LiveKitTrackV1
{
    public required string Sid { get; init; }

    /// <summary>AUDIO, VIDEO or DATA.</summary>
    public string? Type { get; init; }

    /// <summary>CAMERA, MICROPHONE, SCREEN_SHARE, SCREEN_SHARE_AUDIO, …</summary>
    public string? Source { get; init; }

    public string? Name { get; init; }
    public string? MimeType { get; init; }
}

public sealed record LiveKitEgressV1
{
    public required string EgressId { get; init; }
    public string? RoomId { get; init; }
    public string? RoomName { get; init; }

    /// <summary>EGRESS_STARTING, EGRESS_ACTIVE, EGRESS_COMPLETE, EGRESS_FAILED, …</summary>
    public string? Status { get; init; }

    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public string? Error { get; init; }

    /// <summary>Where the recordings went: file locations, segment playlists, stream URLs.</summary>
    public IReadOnlyList<string>? Locations { get; init; }
}

public sealed record LiveKitIngressV1
{
    public required string IngressId { get; init; }
    public string? Name { get; init; }
    public string? RoomName { get; init; }
    public string? Status { get; init; }
}
