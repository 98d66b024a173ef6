using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
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
    // Enum names by number, for senders that write enums as numbers. Zero is what an omitted field means.
    private static readonly string[] EgressStatuses =
    [
        "EGRESS_STARTING", "EGRESS_ACTIVE", "EGRESS_ENDING", "EGRESS_COMPLETE", "EGRESS_FAILED", "EGRESS_ABORTED",
        "EGRESS_LIMIT_REACHED",
    ];

    private static readonly string[] IngressStatuses =
        ["ENDPOINT_INACTIVE", "ENDPOINT_BUFFERING", "ENDPOINT_PUBLISHING", "ENDPOINT_ERROR", "ENDPOINT_COMPLETE"];

    private static readonly string[] ParticipantStates = ["JOINING", "JOINED", "ACTIVE", "DISCONNECTED"];

    private static readonly string?[] ParticipantKinds =
        ["STANDARD", "INGRESS", "EGRESS", "SIP", "AGENT", null, null, "CONNECTOR", "BRIDGE"];

    private static readonly string[] TrackTypes = ["AUDIO", "VIDEO", "DATA"];

    private static readonly string[] TrackSources = ["UNKNOWN", "CAMERA", "MICROPHONE", "SCREEN_SHARE", "SCREEN_SHARE_AUDIO"];

    public static NormalizationResult<LiveKitEventV1> Normalize(ReadOnlySpan<byte> rawBody, Guid receiptId, DateTimeOffset receivedAt) =>
        JsonFields.Parse<LiveKitEventV1>(rawBody, (root, raw) => Normalize(root, raw, receiptId, receivedAt));

    private static NormalizationResult<LiveKitEventV1> Normalize(JsonElement root, ReadOnlySpan<byte> rawBody, Guid receiptId, DateTimeOffset receivedAt)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Malformed("body is not a json object");
        }

        if (!JsonFields.TryReadString(root, ("event", "event"), out var eventName, out var error)
            || !JsonFields.TryReadString(root, ("id", "id"), out var id, out error)
            // The seed's example writes the event time as creation_time.
            || !TryReadTimestamp(root, ("createdAt", "created_at"), Unit.Seconds, out var createdAt, out error)
            || (createdAt is null && !TryReadTimestamp(root, ("creationTime", "creation_time"), Unit.Seconds, out createdAt, out error))
            || !TryReadRoom(root, out var room, out error)
            || !TryReadParticipant(root, out var participant, out error)
            || !TryReadTrack(root, out var track, out error)
            || !TryReadEgress(root, out var egress, out error)
            || !TryReadIngress(root, out var ingress, out error))
        {
            return Malformed(error);
        }

        if (string.IsNullOrWhiteSpace(eventName))
        {
            return Malformed("missing event");
        }

        // Rooms keys its rooms, sessions, tracks and egress by these and stores them: a longer one would be cut there,
        // and two ids alike in their first characters would become one. Statuses are enum names, far shorter.
        if ((JsonFields.TooLong(room?.Sid, "room.sid", ColumnLengths.RoomSid)
             ?? JsonFields.TooLong(participant?.Sid, "participant.sid", ColumnLengths.RoomSid)
             ?? JsonFields.TooLong(track?.Sid, "track.sid", ColumnLengths.RoomSid)
             ?? JsonFields.TooLong(egress?.EgressId, "egressInfo.egressId", ColumnLengths.RoomSid)
             ?? JsonFields.TooLong(egress?.RoomId, "egressInfo.roomId", ColumnLengths.RoomSid)
             ?? JsonFields.TooLong(egress?.Status, "egressInfo.status", ColumnLengths.EgressStatus)) is { } tooLong)
        {
            return Malformed(tooLong);
        }

        // Rooms also keeps the event id, in a column shorter than the receipt's: a longer id is hashed to fit both.
        var eventId = DedupKeys.For(id, rawBody, ColumnLengths.RoomSid);
        var message = new LiveKitEventV1
        {
            EventId = eventId,
            Event = eventName,
            CreatedAt = createdAt ?? receivedAt,
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

    private static bool TryReadRoom(JsonElement root, out LiveKitRoomV1? room, [NotNullWhen(false)] out string? error)
    {
        room = null;
        if (!JsonFields.TryReadObject(root, ("room", "room"), out var found, out error))
        {
            return false;
        }

        if (found is not { } r)
        {
            return true;
        }

        if (!JsonFields.TryReadString(r, ("sid", "sid"), out var sid, out error)
            || !JsonFields.TryReadString(r, ("name", "name"), out var name, out error)
            || !JsonFields.TryReadString(r, ("metadata", "metadata"), out var metadata, out error)
            || !TryReadTimestamp(r, ("creationTime", "creation_time"), Unit.Seconds, out var created, out error)
            || (created is null && !TryReadTimestamp(r, ("creationTimeMs", "creation_time_ms"), Unit.Milliseconds, out created, out error))
            || !TryReadInt32(r, ("emptyTimeout", "empty_timeout"), out var emptyTimeout, out error)
            || !TryReadInt32(r, ("maxParticipants", "max_participants"), out var maxParticipants, out error)
            || !TryReadInt32(r, ("numParticipants", "num_participants"), out var numParticipants, out error))
        {
            return false;
        }

        room = new LiveKitRoomV1
        {
            Sid = sid ?? "",
            Name = name ?? "",
            CreationTime = created,
            EmptyTimeout = emptyTimeout,
            MaxParticipants = maxParticipants,
            NumParticipants = numParticipants,
            Metadata = JsonFields.NullIfBlank(metadata),
        };
        return true;
    }

    private static bool TryReadParticipant(JsonElement root, out LiveKitParticipantV1? participant, [NotNullWhen(false)] out string? error)
    {
        participant = null;
        if (!JsonFields.TryReadObject(root, ("participant", "participant"), out var found, out error))
        {
            return false;
        }

        if (found is not { } p)
        {
            return true;
        }

        // joinedAtMs is the same instant as joinedAt, only finer; taken when present.
        if (!JsonFields.TryReadString(p, ("sid", "sid"), out var sid, out error)
            || !JsonFields.TryReadString(p, ("identity", "identity"), out var identity, out error)
            || !JsonFields.TryReadString(p, ("name", "name"), out var name, out error)
            || !JsonFields.TryReadString(p, ("metadata", "metadata"), out var metadata, out error)
            || !TryReadEnum(p, ("state", "state"), ParticipantStates, out var state, out error)
            || !TryReadEnum(p, ("kind", "kind"), ParticipantKinds, out var kind, out error)
            || !TryReadTimestamp(p, ("joinedAtMs", "joined_at_ms"), Unit.Milliseconds, out var joinedAt, out error)
            || (joinedAt is null && !TryReadTimestamp(p, ("joinedAt", "joined_at"), Unit.Seconds, out joinedAt, out error)))
        {
            return false;
        }

        participant = new LiveKitParticipantV1
        {
            Sid = sid ?? "",
            Identity = identity ?? "",
            Name = JsonFields.NullIfBlank(name),
            State = state,
            Kind = kind,
            JoinedAt = joinedAt,
            Metadata = JsonFields.NullIfBlank(metadata),
        };
        return true;
    }

    private static bool TryReadTrack(JsonElement root, out LiveKitTrackV1? track, [NotNullWhen(false)] out string? error)
    {
        track = null;
        if (!JsonFields.TryReadObject(root, ("track", "track"), out var found, out error))
        {
            return false;
        }

        if (found is not { } t)
        {
            return true;
        }

        if (!JsonFields.TryReadString(t, ("sid", "sid"), out var sid, out error)
            || !JsonFields.TryReadString(t, ("name", "name"), out var name, out error)
            || !JsonFields.TryReadString(t, ("mimeType", "mime_type"), out var mimeType, out error)
            || !TryReadEnum(t, ("type", "type"), TrackTypes, out var type, out error)
            || !TryReadEnum(t, ("source", "source"), TrackSources, out var source, out error))
        {
            return false;
        }

        track = new LiveKitTrackV1
        {
            Sid = sid ?? "",
            Type = type,
            Source = source,
            Name = JsonFields.NullIfBlank(name),
            MimeType = JsonFields.NullIfBlank(mimeType),
        };
        return true;
    }

    private static bool TryReadEgress(JsonElement root, out LiveKitEgressV1? egress, [NotNullWhen(false)] out string? error)
    {
        egress = null;
        if (!JsonFields.TryReadObject(root, ("egressInfo", "egress_info"), out var found, out error))
        {
            return false;
        }

        if (found is not { } e)
        {
            return true;
        }

        var locations = new List<string>();
        if (!JsonFields.TryReadString(e, ("egressId", "egress_id"), out var egressId, out error)
            || !JsonFields.TryReadString(e, ("roomId", "room_id"), out var roomId, out error)
            || !JsonFields.TryReadString(e, ("roomName", "room_name"), out var roomName, out error)
            || !JsonFields.TryReadString(e, ("error", "error"), out var egressError, out error)
            || !TryReadEnum(e, ("status", "status"), EgressStatuses, out var status, out error)
            || !TryReadTimestamp(e, ("startedAt", "started_at"), Unit.Nanoseconds, out var startedAt, out error)
            || !TryReadTimestamp(e, ("endedAt", "ended_at"), Unit.Nanoseconds, out var endedAt, out error)
            || !TryCollectLocations(e, locations, out error))
        {
            return false;
        }

        egress = new LiveKitEgressV1
        {
            EgressId = egressId ?? "",
            RoomId = JsonFields.NullIfBlank(roomId),
            RoomName = JsonFields.NullIfBlank(roomName),
            Status = status,
            StartedAt = startedAt,
            EndedAt = endedAt,
            Error = JsonFields.NullIfBlank(egressError),
            Locations = locations.Count > 0 ? locations : null,
        };
        return true;
    }

    // Where the recording went, from the current repeated results and from the deprecated single result
    // (file / segments / stream), in that order, without repeats.
    private static bool TryCollectLocations(JsonElement egress, List<string> locations, [NotNullWhen(false)] out string? error)
    {
        void Add(string? location)
        {
            if (!string.IsNullOrWhiteSpace(location) && !locations.Contains(location))
            {
                locations.Add(location);
            }
        }

        bool FromFile(JsonElement file, [NotNullWhen(false)] out string? fileError)
        {
            if (!JsonFields.TryReadString(file, ("location", "location"), out var location, out fileError)
                || !JsonFields.TryReadString(file, ("filename", "filename"), out var filename, out fileError))
            {
                return false;
            }

            Add(string.IsNullOrWhiteSpace(location) ? filename : location);
            return true;
        }

        bool FromSegments(JsonElement segments, [NotNullWhen(false)] out string? segmentsError)
        {
            if (!JsonFields.TryReadString(segments, ("playlistLocation", "playlist_location"), out var playlist, out segmentsError)
                || !JsonFields.TryReadString(segments, ("playlistName", "playlist_name"), out var playlistName, out segmentsError)
                || !JsonFields.TryReadString(segments, ("livePlaylistLocation", "live_playlist_location"), out var live, out segmentsError))
            {
                return false;
            }

            Add(string.IsNullOrWhiteSpace(playlist) ? playlistName : playlist);
            Add(live);
            return true;
        }

        bool FromStream(JsonElement stream, [NotNullWhen(false)] out string? streamError)
        {
            if (!JsonFields.TryReadString(stream, ("url", "url"), out var url, out streamError))
            {
                return false;
            }

            Add(url);
            return true;
        }

        if (!ForEachObject(egress, ("fileResults", "file_results"), FromFile, out error)
            || !ForEachObject(egress, ("segmentResults", "segment_results"), FromSegments, out error)
            || !ForEachObject(egress, ("streamResults", "stream_results"), FromStream, out error)
            || !JsonFields.TryReadObject(egress, ("file", "file"), out var file, out error)
            || (file is { } f && !FromFile(f, out error))
            || !JsonFields.TryReadObject(egress, ("segments", "segments"), out var segments, out error)
            || (segments is { } s && !FromSegments(s, out error))
            || !JsonFields.TryReadObject(egress, ("stream", "stream"), out var stream, out error)
            || (stream is { } st && !ForEachObject(st, ("info", "info"), FromStream, out error)))
        {
            return false;
        }

        return true;
    }

    private static bool TryReadIngress(JsonElement root, out LiveKitIngressV1? ingress, [NotNullWhen(false)] out string? error)
    {
        ingress = null;
        if (!JsonFields.TryReadObject(root, ("ingressInfo", "ingress_info"), out var found, out error))
        {
            return false;
        }

        if (found is not { } i)
        {
            return true;
        }

        if (!JsonFields.TryReadString(i, ("ingressId", "ingress_id"), out var ingressId, out error)
            || !JsonFields.TryReadString(i, ("name", "name"), out var name, out error)
            || !JsonFields.TryReadString(i, ("roomName", "room_name"), out var roomName, out error)
            || !JsonFields.TryReadObject(i, ("state", "state"), out var state, out error))
        {
            return false;
        }

        string? status = null;
        if (state is { } s && !TryReadEnum(s, ("status", "status"), IngressStatuses, out status, out error))
        {
            return false;
        }

        ingress = new LiveKitIngressV1
        {
            IngressId = ingressId ?? "",
            Name = JsonFields.NullIfBlank(name),
            RoomName = JsonFields.NullIfBlank(roomName),
            Status = status,
        };
        return true;
    }

    private delegate bool ElementReader(JsonElement element, [NotNullWhen(false)] out string? error);

    private static bool ForEachObject(JsonElement obj, (string, string) names, ElementReader read, [NotNullWhen(false)] out string? error)
    {
        error = null;
        if (!JsonFields.TryFind(obj, names, out var array, out var name) || array.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            error = name + " must be an array";
            return false;
        }

        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                error = name + " must hold objects";
                return false;
            }

            if (!read(item, out error))
            {
                return false;
            }
        }

        return true;
    }

    // protojson writes 64-bit integers as strings and 32-bit ones as numbers, and reads either; so do we.
    private static bool TryReadInt64(JsonElement obj, (string, string) names, out long? value, out string name, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!JsonFields.TryFind(obj, names, out var element, out name) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        long number;
        switch (element.ValueKind)
        {
            case JsonValueKind.Number when element.TryGetInt64(out number):
                break;
            case JsonValueKind.String when long.TryParse(element.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number):
                break;
            default:
                error = name + " must be an integer";
                return false;
        }

        value = number;
        return true;
    }

    private static bool TryReadInt32(JsonElement obj, (string, string) names, out int? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        if (!TryReadInt64(obj, names, out var number, out var name, out error))
        {
            return false;
        }

        if (number is < int.MinValue or > int.MaxValue)
        {
            error = name + " out of range";
            return false;
        }

        value = (int?)number;
        return true;
    }

    private enum Unit
    {
        Seconds,
        Milliseconds,
        Nanoseconds,
    }

    // Zero is proto3's "not set" (protojson omits it); a negative time or one past year 9999 is malformed.
    private static bool TryReadTimestamp(JsonElement obj, (string, string) names, Unit unit, out DateTimeOffset? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        if (!TryReadInt64(obj, names, out var number, out var name, out error))
        {
            return false;
        }

        if (number is null or 0)
        {
            return true;
        }

        var ticks = unit switch
        {
            Unit.Seconds => number.Value <= JsonFields.MaxUnixSeconds ? number.Value * TimeSpan.TicksPerSecond : -1,
            Unit.Milliseconds => number.Value <= JsonFields.MaxUnixSeconds * 1000 ? number.Value * TimeSpan.TicksPerMillisecond : -1,
            _ => number.Value / 100, // 100 ns per tick; any positive int64 of nanoseconds is before 2263
        };

        if (number.Value < 0 || ticks < 0)
        {
            error = name + " out of range";
            return false;
        }

        value = DateTimeOffset.UnixEpoch.AddTicks(ticks);
        return true;
    }

    // An omitted enum is its zero value (the first name); a number is mapped to its name where known
    // (a gap in a table is a number the proto does not define).
    private static bool TryReadEnum(JsonElement obj, (string, string) names, string?[] known, out string? value, [NotNullWhen(false)] out string? error)
    {
        value = known[0];
        error = null;
        if (!JsonFields.TryFind(obj, names, out var element, out var name) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.String when element.GetString() is { Length: > 0 } text:
                value = text;
                return true;
            case JsonValueKind.String:
                return true;
            case JsonValueKind.Number when element.TryGetInt32(out var number):
                value = (number >= 0 && number < known.Length ? known[number] : null) ?? number.ToString(CultureInfo.InvariantCulture);
                return true;
            default:
                error = name + " must be an enum name or number";
                return false;
        }
    }

    private static NormalizationResult<LiveKitEventV1> Malformed(string error) =>
        NormalizationResult<LiveKitEventV1>.Malformed(error);
}
