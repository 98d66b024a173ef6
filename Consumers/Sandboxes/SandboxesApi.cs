using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Access;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>
/// GET /api/sandboxes/{sandboxId}, GET /api/sandboxes?state=running&amp;stale=true and
/// GET /api/teams/{teamId}/usage?from=&amp;to=, with a read key (metadata holds users' tokens).
/// </summary>
public static class SandboxesApi
{
    public static void MapSandboxesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/sandboxes").RequireReadKey();
        group.MapGet("/{sandboxId}", async (string sandboxId, SandboxesDbContext db, CancellationToken ct) =>
            await db.Sandboxes.AsNoTracking().FirstOrDefaultAsync(s => s.SandboxId == sandboxId, ct) is { } sandbox
                ? Results.Ok(SandboxView.From(sandbox))
                : Results.NotFound(new { error = "not_found", message = $"No sandbox {sandboxId} has been seen." }));

        group.MapGet("/", async (string? state, string? stale, int? limit, SandboxesDbContext db, CancellationToken ct) =>
        {
            if (state is not null and not (SandboxStates.Running or SandboxStates.Paused or SandboxStates.Killed))
            {
                return Results.BadRequest(new { error = "bad_state", message = "state must be running, paused or killed." });
            }

            if (stale is not null and not ("true" or "false"))
            {
                return Results.BadRequest(new { error = "bad_stale", message = "stale must be true or false." });
            }

            var query = db.Sandboxes.AsNoTracking();
            if (state is not null)
            {
                query = query.Where(s => s.State == state);
            }

            if (stale is not null)
            {
                query = stale == "true" ? query.Where(s => s.StaleAt != null) : query.Where(s => s.StaleAt == null);
            }

            var rows = await query.OrderBy(s => s.SandboxId).Take(Math.Clamp(limit ?? 500, 1, 5000)).ToListAsync(ct);
            return Results.Ok(rows.Select(SandboxView.From));
        });

        endpoints.MapGet("/api/teams/{teamId}/usage", async (string teamId, string? from, string? to, SandboxesDbContext db,
            IOptionsMonitor<SandboxesOptions> options, CancellationToken ct) =>
        {
            var (since, until, error) = TeamUsage.ParseWindow(from, to, DateTime.UtcNow);
            if (error is not null || since is not { } start || until is not { } end)
            {
                return Results.BadRequest(new { error = "bad_window", message = error });
            }

            // By creation time, or the last state change when the create event was not seen.
            var rows = await db.Sandboxes.AsNoTracking()
                .Where(s => s.TeamId == teamId && (s.CreatedAt ?? s.StateChangedAt) >= start && (s.CreatedAt ?? s.StateChangedAt) < end)
                .GroupBy(s => s.TemplateId)
                .Select(g => new TemplateTotals(g.Key, g.Count(), g.Sum(s => s.BilledRunningSeconds)))
                .ToListAsync(ct);
            return Results.Ok(TeamUsage.Report(teamId, start, end, rows, options.CurrentValue));
        }).RequireReadKey();
    }
}

public sealed record SandboxView(
    string SandboxId, string State, string? TemplateId, string? TeamId, string? BuildId, string? ExecutionId,
    JsonElement? Metadata, DateTime? CreatedAt, DateTime? RunningSince, DateTime? PausedAt, DateTime? KilledAt,
    DateTime LastEventAt, double BilledRunningSeconds, int EventCount, DateTime UpdatedAt, bool Stale, DateTime? StaleAt)
{
    public static SandboxView From(Sandbox s) => new(
        s.SandboxId, s.State, s.TemplateId, s.TeamId, s.BuildId, s.ExecutionId,
        s.Metadata is null ? null : JsonDocument.Parse(s.Metadata).RootElement.Clone(),
        s.CreatedAt, s.RunningSince, s.PausedAt, s.KilledAt, s.LastEventAt, s.BilledRunningSeconds, s.EventCount, s.UpdatedAt,
        s.StaleAt is not null, s.StaleAt);
}
