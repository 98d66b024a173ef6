using Pipeline.Messages.Rooms;
using Pipeline.Persistence;

namespace Pipeline.Ingress.Providers.LiveKit;

/// <summary>
/// Turns a LiveKit <c>WebhookEvent</c> in protojson (camelCase, int64 as strings, enums as names, zero values
/// omitted) into one <see cref="LiveKitEventV1"/>. Also tolerated, as protojson readers do: the proto's own
/// snake_case names, int64 as JSON numbers and enums as numbers. An omitted enum is its zero value, as in proto3.
/// Timestamps follow livekit_models.proto / livekit_egress.proto: room <c>creationTime</c>, participant
/// <c>joinedAt</c> and the event's <c>createdAt</c> in seconds; egress and ingress <c>startedAt</c>/<c>endedAt</c>
/// in nanoseconds.
/// </summary>
public static class LiveKitEventNormalizer
{
    public static NormalizationResult<LiveKitEventV1> Normalize(ReadOnlySpan<byte> rawBody, Guid receiptId, DateTimeOffset receivedAt)
    {
        if (!WireJson.TryRead(rawBody, LiveKitWire.WebhookEvent, out var body, out var error))
        {
            return Malformed(error);
        }

        if (string.IsNullOrWhiteSpace(body.Event))
        {
            return Malformed("missing event");
        }

        var room = body.Room is { } r
            ? new LiveKitRoomV1
            {
                Sid = r.Sid ?? "",
                Name = r.Name ?? "",
                CreationTime = r.CreationTime ?? r.CreationTimeMs,
                EmptyTimeout = r.EmptyTimeout,
                MaxParticipants = r.MaxParticipants,
                NumParticipants = r.NumParticipants,
                Metadata = WireJson.NullIfBlank(r.Metadata),
            }
            : null;

        // joinedAtMs is the same instant as joinedAt, only finer; taken when present.
        var participant = body.Participant is { } p
            ? new LiveKitParticipantV1
            {
                Sid = p.Sid ?? "",
                Identity = p.Identity ?? "",
                Name = WireJson.NullIfBlank(p.Name),
                State = p.State ?? LiveKitEnums.ParticipantStates[0],
                Kind = p.Kind ?? LiveKitEnums.ParticipantKinds[0],
                JoinedAt = p.JoinedAtMs ?? p.JoinedAt,
                Metadata = WireJson.NullIfBlank(p.Metadata),
            }
            : null;

        var track = body.Track is { } t
            ? new LiveKitTrackV1
            {
                Sid = t.Sid ?? "",
                Type = t.Type ?? LiveKitEnums.TrackTypes[0],
                Source = t.Source ?? LiveKitEnums.TrackSources[0],
                Name = WireJson.NullIfBlank(t.Name),
                MimeType = WireJson.NullIfBlank(t.MimeType),
            }
            : null;

        var egress = body.EgressInfo is { } e
            ? new LiveKitEgressV1
            {
                EgressId = e.EgressId ?? "",
                RoomId = WireJson.NullIfBlank(e.RoomId),
                RoomName = WireJson.NullIfBlank(e.RoomName),
                Status = e.Status ?? LiveKitEnums.EgressStatuses[0],
                StartedAt = e.StartedAt,
                EndedAt = e.EndedAt,
                Error = WireJson.NullIfBlank(e.Error),
                Locations = Locations(e),
            }
            : null;

        var ingress = body.IngressInfo is { } i
            ? new LiveKitIngressV1
            {
                IngressId = i.IngressId ?? "",
                Name = WireJson.NullIfBlank(i.Name),
                RoomName = WireJson.NullIfBlank(i.RoomName),
                Status = i.State is { } state ? state.Status ?? LiveKitEnums.IngressStatuses[0] : null,
            }
            : null;

        // Rooms keys its rooms, sessions, tracks and egress by these and stores them: a longer one would be cut there,
        // and two ids alike in their first characters would become one. Statuses are enum names, far shorter.
        if ((WireJson.TooLong(room?.Sid, "room.sid", ColumnLengths.RoomSid)
             ?? WireJson.TooLong(participant?.Sid, "participant.sid", ColumnLengths.RoomSid)
             ?? WireJson.TooLong(track?.Sid, "track.sid", ColumnLengths.RoomSid)
             ?? WireJson.TooLong(egress?.EgressId, "egressInfo.egressId", ColumnLengths.RoomSid)
             ?? WireJson.TooLong(egress?.RoomId, "egressInfo.roomId", ColumnLengths.RoomSid)
             ?? WireJson.TooLong(egress?.Status, "egressInfo.status", ColumnLengths.EgressStatus)) is { } tooLong)
        {
            return Malformed(tooLong);
        }

        // Rooms also keeps the event id, in a column shorter than the receipt's: a longer id is hashed to fit both.
        var eventId = DedupKeys.For(body.Id, rawBody, ColumnLengths.RoomSid);
        var message = new LiveKitEventV1
        {
            EventId = eventId,
            Event = body.Event,
            CreatedAt = body.CreatedAt ?? body.CreationTime ?? receivedAt,
            Room = room,
            Participant = participant,
            Track = track,
            Egress = egress,
            Ingress = ingress,
            ReceiptId = receiptId,
        };
        return NormalizationResult<LiveKitEventV1>.Ok(message, eventId);
    }

    /// <summary>A few words for the log line, e.g. "participant_joined in room demo".</summary>
    public static string Describe(LiveKitEventV1 message)
    {
        var room = message.Room?.Name ?? message.Egress?.RoomName ?? message.Ingress?.RoomName;
        var subject = message.Event.StartsWith("participant_", StringComparison.Ordinal) && message.Participant is { } p ? $" {p.Identity}"
            : message.Event.StartsWith("track_", StringComparison.Ordinal) && message.Track is { } t ? $" {t.Sid}"
            : message.Event.StartsWith("egress_", StringComparison.Ordinal) && message.Egress is { } e ? $" {e.EgressId}"
            : message.Event.StartsWith("ingress_", StringComparison.Ordinal) && message.Ingress is { } i ? $" {i.IngressId}"
            : "";
        return string.IsNullOrEmpty(room) ? $"{message.Event}{subject}" : $"{message.Event}{subject} in room {room}";
    }

    // Where the recording went, from the current repeated results and from the deprecated single result
    // (file / segments / stream), in that order, without repeats.
    private static List<string>? Locations(LiveKitEgress egress)
    {
        var locations = new List<string>();
        void Add(string? location)
        {
            if (!string.IsNullOrWhiteSpace(location) && !locations.Contains(location))
            {
                locations.Add(location);
            }
        }

        void FromFile(LiveKitFile? file) => Add(string.IsNullOrWhiteSpace(file?.Location) ? file?.Filename : file.Location);

        void FromSegments(LiveKitSegments? segments)
        {
            Add(string.IsNullOrWhiteSpace(segments?.PlaylistLocation) ? segments?.PlaylistName : segments.PlaylistLocation);
            Add(segments?.LivePlaylistLocation);
        }

        egress.FileResults?.ForEach(FromFile);
        egress.SegmentResults?.ForEach(FromSegments);
        egress.StreamResults?.ForEach(stream => Add(stream?.Url));
        FromFile(egress.File);
        FromSegments(egress.Segments);
        egress.Stream?.Info?.ForEach(stream => Add(stream?.Url));
        return locations.Count > 0 ? locations : null;
    }

    private static NormalizationResult<LiveKitEventV1> Malformed(string error) =>
        NormalizationResult<LiveKitEventV1>.Malformed(error);
}
