using System.Text.Json;
using Pipeline.Messages.Rooms;
using Pipeline.Persistence;
using Pipeline.Persistence.Rooms;

namespace Pipeline.Consumers.Rooms;

public static class RoomStatuses
{
    public const string Active = "active";
    public const string Finished = "finished";
}

public static class SessionEndReasons
{
    public const string Left = "left";
    public const string ConnectionAborted = "connection_aborted";
    public const string RoomFinished = "room_finished";
}

public static class TrackEndReasons
{
    public const string Unpublished = "unpublished";
    public const string ParticipantLeft = "participant_left";
    public const string RoomFinished = "room_finished";
}

/// <summary>The LiveKit webhook event names the room state listens to; any other name is acknowledged without effect.</summary>
public static class LiveKitEventNames
{
    public const string RoomStarted = "room_started";
    public const string RoomFinished = "room_finished";
    public const string ParticipantJoined = "participant_joined";
    public const string ParticipantLeft = "participant_left";
    public const string ParticipantConnectionAborted = "participant_connection_aborted";
    public const string TrackPublished = "track_published";
    public const string TrackUnpublished = "track_unpublished";
    public const string EgressStarted = "egress_started";
    public const string EgressUpdated = "egress_updated";
    public const string EgressEnded = "egress_ended";

    /// <summary>The name older LiveKit deployments (and the seed's guide) give a finished recording: an egress that ended.</summary>
    public const string RecordingFinished = "recording_finished";

    public static bool AffectsRoom(string name) => name is RoomStarted or RoomFinished or ParticipantJoined or ParticipantLeft
        or ParticipantConnectionAborted or TrackPublished or TrackUnpublished or EgressStarted or EgressUpdated or EgressEnded
        or RecordingFinished;
}

/// <summary>One room with everything under it, as loaded for one event.</summary>
public sealed class RoomAggregate
{
    public required Room Room { get; init; }
    public List<ParticipantSession> Sessions { get; init; } = [];
    public List<RoomTrack> Tracks { get; init; } = [];
    public List<EgressResult> Egress { get; init; } = [];
}

/// <summary>
/// Folds LiveKit events into a room. Events arrive late, out of order and (through a slip elsewhere) more than
/// once, so every stored fact is merged in a way that does not depend on arrival order and that a repeat leaves
/// unchanged: earliest join, earliest explicit leave (connection_aborted outranks left), earliest finish, the most
/// advanced egress report. What follows from those facts is recomputed after every event: room_finished closes the
/// sessions and tracks that no explicit event closed (and is final: nothing reopens the room), the current
/// participants are the open sessions, and the peak is the most sessions whose intervals overlap at one moment.
/// A pure fold, not a MassTransit saga: the consumer loads the room, applies, and saves with its inbox row.
/// </summary>
public static class RoomEventFold
{
    private const int NameLength = 256;
    private const int SidLength = ColumnLengths.RoomSid;
    private const int ErrorLength = 2000;

    /// <summary>The room an event belongs to, or null when it does not change any room's state.</summary>
    public static string? RoomSidOf(LiveKitEventV1 e) =>
        !LiveKitEventNames.AffectsRoom(e.Event) ? null : NullIfBlank(e.Room?.Sid) ?? NullIfBlank(e.Egress?.RoomId);

    /// <returns>The room after the event; a new aggregate when <paramref name="current"/> is null.</returns>
    public static RoomAggregate Apply(RoomAggregate? current, LiveKitEventV1 e, DateTime now)
    {
        var roomSid = RoomSidOf(e) ?? throw new ArgumentException($"Event {e.Event} {e.EventId} does not concern a room.", nameof(e));
        var at = e.CreatedAt.UtcDateTime;
        var aggregate = current ?? new RoomAggregate
        {
            Room = new Room
            {
                Sid = Clip(roomSid, SidLength)!,
                Name = "",
                Status = RoomStatuses.Active,
                FirstEventAt = at,
                LastEventAt = at,
            },
        };
        var room = aggregate.Room;
        if (room.Name.Length == 0)
        {
            room.Name = Clip(NullIfBlank(e.Room?.Name) ?? NullIfBlank(e.Egress?.RoomName), NameLength) ?? "";
        }

        room.FirstEventAt = Min(room.FirstEventAt, at);
        room.LastEventAt = Max(room.LastEventAt, at);
        room.StartedAt = Min(room.StartedAt, e.Room?.CreationTime?.UtcDateTime);

        switch (e.Event)
        {
            case LiveKitEventNames.RoomStarted:
                room.StartedAt = Min(room.StartedAt, at);
                break;
            case LiveKitEventNames.RoomFinished:
                room.FinishedAt = Min(room.FinishedAt, at);
                break;
            case LiveKitEventNames.ParticipantJoined:
                Session(aggregate, e.Participant, at, joined: true);
                break;
            case LiveKitEventNames.ParticipantLeft:
                End(Session(aggregate, e.Participant, at, joined: false), at, SessionEndReasons.Left);
                break;
            case LiveKitEventNames.ParticipantConnectionAborted:
                End(Session(aggregate, e.Participant, at, joined: false), at, SessionEndReasons.ConnectionAborted);
                break;
            case LiveKitEventNames.TrackPublished:
                if (Track(aggregate, e) is { } published)
                {
                    published.PublishedAt = Min(published.PublishedAt, at);
                }

                break;
            case LiveKitEventNames.TrackUnpublished:
                if (Track(aggregate, e) is { } unpublished)
                {
                    unpublished.UnpublishedAt = unpublished.EndReason == TrackEndReasons.Unpublished ? Min(unpublished.UnpublishedAt, at) : at;
                    unpublished.EndReason = TrackEndReasons.Unpublished;
                }

                break;
            case LiveKitEventNames.EgressStarted or LiveKitEventNames.EgressUpdated or LiveKitEventNames.EgressEnded
                or LiveKitEventNames.RecordingFinished:
                Egress(aggregate, e, at);
                break;
        }

        Derive(aggregate, now);
        return aggregate;
    }

    /// <summary>The most sessions open at one moment; a session ending at the instant another starts does not overlap it.</summary>
    public static int PeakParticipants(IEnumerable<ParticipantSession> sessions)
    {
        var points = new List<(DateTime At, int Delta)>();
        foreach (var s in sessions)
        {
            // A session whose start is unknown (only its leave was seen) is not counted until its join is.
            if (s.JoinedAt is not { } start || s.LeftAt is { } end && end <= start)
            {
                continue;
            }

            points.Add((start, 1));
            if (s.LeftAt is { } left)
            {
                points.Add((left, -1));
            }
        }

        points.Sort((a, b) => a.At != b.At ? a.At.CompareTo(b.At) : a.Delta.CompareTo(b.Delta));
        int open = 0, peak = 0;
        foreach (var (_, delta) in points)
        {
            open += delta;
            peak = Math.Max(peak, open);
        }

        return peak;
    }

    private static ParticipantSession? Session(RoomAggregate aggregate, LiveKitParticipantV1? p, DateTime at, bool joined)
    {
        if (p is null || string.IsNullOrWhiteSpace(p.Sid))
        {
            return null;
        }

        var sid = Clip(p.Sid, SidLength)!;
        var session = aggregate.Sessions.Find(s => s.ParticipantSid == sid);
        if (session is null)
        {
            session = new ParticipantSession { RoomSid = aggregate.Room.Sid, ParticipantSid = sid, Identity = Clip(p.Identity, NameLength) ?? "" };
            aggregate.Sessions.Add(session);
        }

        if (session.Identity.Length == 0)
        {
            session.Identity = Clip(p.Identity, NameLength) ?? "";
        }

        session.Name ??= Clip(NullIfBlank(p.Name), NameLength);
        session.JoinedAt = Min(session.JoinedAt, p.JoinedAt?.UtcDateTime);
        if (joined)
        {
            session.JoinedAt = Min(session.JoinedAt, at);
        }

        return session;
    }

    /// <summary>An explicit end (left, connection_aborted) replaces a room_finished closure; of two, the earlier time wins.</summary>
    private static void End(ParticipantSession? session, DateTime at, string reason)
    {
        if (session is null)
        {
            return;
        }

        if (session.EndReason is SessionEndReasons.Left or SessionEndReasons.ConnectionAborted)
        {
            session.LeftAt = Min(session.LeftAt, at);
            if (reason == SessionEndReasons.ConnectionAborted)
            {
                session.EndReason = reason;
            }
        }
        else
        {
            session.LeftAt = at;
            session.EndReason = reason;
        }
    }

    private static RoomTrack? Track(RoomAggregate aggregate, LiveKitEventV1 e)
    {
        if (e.Track is not { } t || string.IsNullOrWhiteSpace(t.Sid))
        {
            return null;
        }

        var sid = Clip(t.Sid, SidLength)!;
        var track = aggregate.Tracks.Find(x => x.TrackSid == sid);
        if (track is null)
        {
            track = new RoomTrack { RoomSid = aggregate.Room.Sid, TrackSid = sid };
            aggregate.Tracks.Add(track);
        }

        track.ParticipantSid ??= Clip(NullIfBlank(e.Participant?.Sid), SidLength);
        track.Type ??= Clip(NullIfBlank(t.Type), 32);
        track.Source ??= Clip(NullIfBlank(t.Source), 32);
        track.Name ??= Clip(NullIfBlank(t.Name), NameLength);
        track.MimeType ??= Clip(NullIfBlank(t.MimeType), 100);
        return track;
    }

    /// <summary>The most advanced report wins (ended over updated over started); between equals, the later one.</summary>
    private static void Egress(RoomAggregate aggregate, LiveKitEventV1 e, DateTime at)
    {
        if (e.Egress is not { } x || string.IsNullOrWhiteSpace(x.EgressId))
        {
            return;
        }

        var id = Clip(x.EgressId, SidLength)!;
        var status = EgressStatus(x.Status, e.Event, x.Error);
        var error = Clip(NullIfBlank(x.Error), ErrorLength);
        var egress = aggregate.Egress.Find(g => g.EgressId == id);
        if (egress is null)
        {
            egress = new EgressResult { EgressId = id, RoomSid = aggregate.Room.Sid, Status = status, StatusAt = at, Error = error };
            aggregate.Egress.Add(egress);
        }
        else if (Outranks(status, at, egress.Status, egress.StatusAt))
        {
            egress.Status = status;
            egress.StatusAt = at;
            egress.Error = error ?? egress.Error;
        }
        else
        {
            egress.Error ??= error;
        }

        egress.RoomName ??= Clip(NullIfBlank(x.RoomName) ?? NullIfBlank(aggregate.Room.Name), NameLength);
        egress.StartedAt = Min(egress.StartedAt, x.StartedAt?.UtcDateTime);
        egress.EndedAt = Max(egress.EndedAt, x.EndedAt?.UtcDateTime);
        egress.Locations = MergeLocations(egress.Locations, x.Locations);
    }

    /// <summary>
    /// LiveKit's EGRESS_COMPLETE → complete; protojson omits EGRESS_STARTING (the zero value), so the event name fills
    /// in. A finished recording is ended whatever progress it reports: its name says the egress is over.
    /// </summary>
    public static string EgressStatus(string? status, string eventName, string? error)
    {
        if (!string.IsNullOrWhiteSpace(status))
        {
            var s = status.Trim();
            var name = (s.StartsWith("EGRESS_", StringComparison.OrdinalIgnoreCase) ? s[7..] : s).ToLowerInvariant();
            if (eventName != LiveKitEventNames.RecordingFinished || EgressRank(name) == EndedRank)
            {
                return name;
            }
        }

        return eventName switch
        {
            LiveKitEventNames.EgressStarted => "starting",
            LiveKitEventNames.EgressUpdated => "active",
            _ => string.IsNullOrWhiteSpace(error) ? "complete" : "failed",
        };
    }

    private const int EndedRank = 3;

    private static int EgressRank(string status) => status switch
    {
        "starting" => 0,
        "active" => 1,
        "ending" => 2,
        "complete" or "failed" or "aborted" or "limit_reached" => EndedRank,
        _ => 1,
    };

    private static bool Outranks(string status, DateTime at, string currentStatus, DateTime currentAt)
    {
        var byRank = EgressRank(status).CompareTo(EgressRank(currentStatus));
        if (byRank != 0)
        {
            return byRank > 0;
        }

        return at != currentAt ? at > currentAt : string.CompareOrdinal(status, currentStatus) > 0;
    }

    /// <summary>Every location ever reported, distinct and sorted, so the list does not depend on arrival order.</summary>
    private static string? MergeLocations(string? stored, IReadOnlyList<string>? reported)
    {
        var all = new SortedSet<string>(StringComparer.Ordinal);
        if (stored is not null)
        {
            all.UnionWith(JsonSerializer.Deserialize<List<string>>(stored) ?? []);
        }

        foreach (var location in reported ?? [])
        {
            if (!string.IsNullOrWhiteSpace(location))
            {
                all.Add(location);
            }
        }

        return all.Count == 0 ? null : JsonSerializer.Serialize(all);
    }

    /// <summary>Everything that follows from the merged facts, recomputed so it cannot drift with arrival order.</summary>
    private static void Derive(RoomAggregate aggregate, DateTime now)
    {
        var room = aggregate.Room;
        room.Status = room.FinishedAt is null ? RoomStatuses.Active : RoomStatuses.Finished;

        foreach (var s in aggregate.Sessions)
        {
            if (s.EndReason is not (SessionEndReasons.Left or SessionEndReasons.ConnectionAborted))
            {
                if (room.FinishedAt is { } finished)
                {
                    // A join stamped after the finish (a ghost) is closed at once and never counted as present.
                    s.LeftAt = s.JoinedAt is { } joined && joined > finished ? joined : finished;
                    s.EndReason = SessionEndReasons.RoomFinished;
                }
                else
                {
                    s.LeftAt = null;
                    s.EndReason = null;
                }
            }

            s.DurationSeconds = s is { JoinedAt: { } j, LeftAt: { } l } ? Math.Max(0, (l - j).TotalSeconds) : null;
        }

        foreach (var t in aggregate.Tracks)
        {
            if (t.EndReason == TrackEndReasons.Unpublished)
            {
                continue;
            }

            var owner = t.ParticipantSid is null ? null : aggregate.Sessions.Find(s => s.ParticipantSid == t.ParticipantSid);
            if (owner?.LeftAt is { } left)
            {
                t.UnpublishedAt = left;
                t.EndReason = owner.EndReason == SessionEndReasons.RoomFinished ? TrackEndReasons.RoomFinished : TrackEndReasons.ParticipantLeft;
            }
            else if (room.FinishedAt is { } finished)
            {
                t.UnpublishedAt = finished;
                t.EndReason = TrackEndReasons.RoomFinished;
            }
            else
            {
                t.UnpublishedAt = null;
                t.EndReason = null;
            }
        }

        room.CurrentParticipants = aggregate.Sessions.Count(s => s.LeftAt is null);
        room.PeakParticipants = PeakParticipants(aggregate.Sessions);
        room.UpdatedAt = now;
    }

    private static DateTime? Min(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : a < b ? a : b;

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;

    private static DateTime? Max(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private static DateTime Max(DateTime a, DateTime b) => a > b ? a : b;

    private static string? NullIfBlank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s;

    private static string? Clip(string? s, int length) => s is null || s.Length <= length ? s : s[..length];
}
