using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Pipeline.Hosting.Access;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>GET /api/sandboxes/{sandboxId} and GET /api/sandboxes?state=running, with a read key (metadata holds users' tokens).</summary>
public static class SandboxesApi
{
    public static void MapSandboxesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/sandboxes").RequireReadKey();
        group.MapGet("/{sandboxId}", async (string sandboxId, SandboxesDbContext db, CancellationToken ct) =>
            await db.Sandboxes.AsNoTracking().FirstOrDefaultAsync(s => s.SandboxId == sandboxId, ct) is { } sandbox
                ? Results.Ok(SandboxView.From(sandbox))
                : Results.NotFound(new { error = "not_found", message = $"No sandbox {sandboxId} has been seen." }));

        group.MapGet("/", async (string? state, int? limit, SandboxesDbContext db, CancellationToken ct) =>
        {
            if (state is not null and not (SandboxStates.Running or SandboxStates.Paused or SandboxStates.Killed))
            {
                return Results.BadRequest(new { error = "bad_state", message = "state must be running, paused or killed." });
            }

            var query = db.Sandboxes.AsNoTracking();
            if (state is not null)
            {
                query = query.Where(s => s.State == state);
            }

            var rows = await query.OrderBy(s => s.SandboxId).Take(Math.Clamp(limit ?? 500, 1, 5000)).ToListAsync(ct);
            return Results.Ok(rows.Select(SandboxView.From));
        });
    }
}

public sealed record SandboxView(
    string SandboxId, string State, string? TemplateId, string? TeamId, string? BuildId, string? ExecutionId,
    JsonElement? Metadata, DateTime? CreatedAt, DateTime? RunningSince, DateTime? PausedAt, DateTime? KilledAt,
    DateTime LastEventAt, double BilledRunningSeconds, int EventCount, DateTime UpdatedAt)
{
    public static SandboxView From(Sandbox s) => new(
        s.SandboxId, s.State, s.TemplateId, s.TeamId, s.BuildId, s.ExecutionId,
        s.Metadata is null ? null : JsonDocument.Parse(s.Metadata).RootElement.Clone(),
        s.CreatedAt, s.RunningSince, s.PausedAt, s.KilledAt, s.LastEventAt, s.BilledRunningSeconds, s.EventCount, s.UpdatedAt);
}
