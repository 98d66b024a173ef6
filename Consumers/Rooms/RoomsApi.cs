using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pipeline.Hosting.Access;
using Pipeline.Persistence.Rooms;

namespace Pipeline.Consumers.Rooms;

/// <summary>
/// GET /api/rooms?status=active|finished&amp;name=…, GET /api/rooms/{roomName} (the most recent room of that name: LiveKit
/// reuses a name after the room finished, under a new sid) and GET /api/rooms/sid/{roomSid} (one room instance), with a read key.
/// </summary>
public static class RoomsApi
{
    public static void MapRoomsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/rooms").RequireReadKey();

        group.MapGet("/", async (string? status, string? name, int? limit, RoomsDbContext db, CancellationToken ct) =>
        {
            if (status is not null and not (RoomStatuses.Active or RoomStatuses.Finished))
            {
                return Results.BadRequest(new { error = "bad_status", message = "status must be active or finished." });
            }

            var query = db.Rooms.AsNoTracking();
            if (status is not null)
            {
                query = query.Where(r => r.Status == status);
            }

            if (name is not null)
            {
                query = query.Where(r => r.Name == name);
            }

            var rows = await MostRecentFirst(query).Take(Math.Clamp(limit ?? 500, 1, 5000)).ToListAsync(ct);
            return Results.Ok(rows.Select(RoomSummaryView.From));
        });

        group.MapGet("/{roomName}", async (string roomName, RoomsDbContext db, CancellationToken ct) =>
            await MostRecentFirst(db.Rooms.AsNoTracking().Where(r => r.Name == roomName)).FirstOrDefaultAsync(ct) is { } room
                ? Results.Ok(await DetailsAsync(db, room, ct))
                : Results.NotFound(new { error = "not_found", message = $"No room named {roomName} has been seen." }));

        group.MapGet("/sid/{roomSid}", async (string roomSid, RoomsDbContext db, CancellationToken ct) =>
            await db.Rooms.AsNoTracking().FirstOrDefaultAsync(r => r.Sid == roomSid, ct) is { } room
                ? Results.Ok(await DetailsAsync(db, room, ct))
                : Results.NotFound(new { error = "not_found", message = $"No room {roomSid} has been seen." }));
    }

    /// <summary>Newest room first: by start, or by first event where the start has not been seen.</summary>
    private static IQueryable<Room> MostRecentFirst(IQueryable<Room> rooms) =>
        rooms.OrderByDescending(r => r.StartedAt ?? r.FirstEventAt).ThenByDescending(r => r.LastEventAt).ThenBy(r => r.Sid);

    private static async Task<RoomView> DetailsAsync(RoomsDbContext db, Room room, CancellationToken ct)
    {
        var sessions = await db.Sessions.AsNoTracking().Where(s => s.RoomSid == room.Sid).ToListAsync(ct);
        var tracks = await db.Tracks.AsNoTracking().Where(t => t.RoomSid == room.Sid).ToListAsync(ct);
        var egress = await db.Egress.AsNoTracking().Where(g => g.RoomSid == room.Sid).ToListAsync(ct);
        return RoomView.From(room, sessions, tracks, egress);
    }
}

public sealed record RoomSummaryView(
    string Name, string Sid, string Status, int Participants, int PeakParticipants, DateTime? StartedAt,
    DateTime? FinishedAt, double? DurationSeconds, DateTime LastEventAt, int EventCount)
{
    public static RoomSummaryView From(Room r) => new(
        r.Name, r.Sid, r.Status, r.CurrentParticipants, r.PeakParticipants, r.StartedAt, r.FinishedAt,
        r is { StartedAt: { } s, FinishedAt: { } f } ? Math.Max(0, (f - s).TotalSeconds) : null, r.LastEventAt, r.EventCount);
}

public sealed record RoomView(
    string Name, string Sid, string Status, int Participants, int PeakParticipants, DateTime? StartedAt,
    DateTime? FinishedAt, double? DurationSeconds, DateTime LastEventAt, int EventCount,
    IReadOnlyList<SessionView> Sessions, IReadOnlyList<TrackView> Tracks, IReadOnlyList<EgressView> Egress)
{
    public static RoomView From(Room r, IEnumerable<ParticipantSession> sessions, IEnumerable<RoomTrack> tracks, IEnumerable<EgressResult> egress)
    {
        var summary = RoomSummaryView.From(r);
        return new RoomView(
            summary.Name, summary.Sid, summary.Status, summary.Participants, summary.PeakParticipants, summary.StartedAt,
            summary.FinishedAt, summary.DurationSeconds, summary.LastEventAt, summary.EventCount,
            [.. sessions.OrderBy(s => s.JoinedAt ?? s.LeftAt).ThenBy(s => s.ParticipantSid, StringComparer.Ordinal).Select(SessionView.From)],
            [.. tracks.OrderBy(t => t.PublishedAt ?? t.UnpublishedAt).ThenBy(t => t.TrackSid, StringComparer.Ordinal).Select(TrackView.From)],
            [.. egress.OrderBy(g => g.StartedAt ?? g.StatusAt).ThenBy(g => g.EgressId, StringComparer.Ordinal).Select(EgressView.From)]);
    }
}

public sealed record SessionView(
    string ParticipantSid, string Identity, string? Name, DateTime? JoinedAt, DateTime? LeftAt, double? DurationSeconds, string? EndReason)
{
    public static SessionView From(ParticipantSession s) =>
        new(s.ParticipantSid, s.Identity, s.Name, s.JoinedAt, s.LeftAt, s.DurationSeconds, s.EndReason);
}

public sealed record TrackView(
    string Sid, string? ParticipantSid, string? Type, string? Source, string? Name, string? MimeType,
    DateTime? PublishedAt, DateTime? UnpublishedAt, string? EndReason)
{
    public static TrackView From(RoomTrack t) =>
        new(t.TrackSid, t.ParticipantSid, t.Type, t.Source, t.Name, t.MimeType, t.PublishedAt, t.UnpublishedAt, t.EndReason);
}

public sealed record EgressView(
    string EgressId, string Status, DateTime? StartedAt, DateTime? EndedAt, double? DurationSeconds, string? Error, IReadOnlyList<string> Locations)
{
    public static EgressView From(EgressResult g) => new(
        g.EgressId, g.Status, g.StartedAt, g.EndedAt, g is { StartedAt: { } s, EndedAt: { } e } ? Math.Max(0, (e - s).TotalSeconds) : null, g.Error,
        g.Locations is null ? [] : JsonSerializer.Deserialize<List<string>>(g.Locations) ?? []);
}
