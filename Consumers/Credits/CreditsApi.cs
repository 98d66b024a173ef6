using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Access;
using Pipeline.Persistence.Credits;

namespace Pipeline.Consumers.Credits;

/// <summary>
/// GET /api/accounts/{userId}, GET /api/accounts/{userId}/ledger, GET /api/accounts/{userId}/allowance?quota=N,
/// GET /api/webhook-logs?status=failed and
/// GET /api/webhook-logs/summary (read key or admin key); POST /api/accounts/{userId}/top-ups (admin key).
/// </summary>
public static class CreditsApi
{
    private const int MaxUserIdLength = 100;
    private const int MaxReferenceLength = 200;

    private static readonly JsonSerializerOptions RequestJson = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    public static void MapCreditsApi(this IEndpointRouteBuilder endpoints)
    {
        var accounts = endpoints.MapGroup("/api/accounts");
        accounts.MapGet("/{userId}", async (string userId, CreditsDbContext db, CancellationToken ct) =>
            await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.UserId == userId, ct) is { } account
                ? Results.Ok(AccountView.From(account))
                : NotFound(userId)).RequireReadKey();

        // A gateway's pre-check before a call: one row read by its key, nothing written.
        accounts.MapGet("/{userId}/allowance", async (string userId, string? quota, CreditsDbContext db, IOptionsMonitor<CreditsOptions> options, CancellationToken ct) =>
        {
            if (!long.TryParse(quota, NumberStyles.None, CultureInfo.InvariantCulture, out var units))
            {
                return BadRequest("bad_quota", "quota must be a whole number of quota units, 0 or more (new-api: 500000 = 1 USD).");
            }

            var balance = await db.Accounts.AsNoTracking().Where(a => a.UserId == userId).Select(a => (decimal?)a.Balance).FirstOrDefaultAsync(ct);
            if (balance is not { } current)
            {
                return NotFound(userId);
            }

            var credits = CreditRules.ToCredits(units, options.CurrentValue.QuotaPerCredit);
            return Results.Ok(new AllowanceView(userId, units, CreditRules.Trim(credits), CreditRules.Trim(current), CreditRules.Covers(current, credits)));
        }).RequireReadKey();

        accounts.MapGet("/{userId}/ledger", async (string userId, int? limit, long? before, CreditsDbContext db, CancellationToken ct) =>
        {
            if (!await db.Accounts.AsNoTracking().AnyAsync(a => a.UserId == userId, ct))
            {
                return NotFound(userId);
            }

            var take = Math.Clamp(limit ?? 50, 1, 500);
            var query = db.Ledger.AsNoTracking().Where(l => l.UserId == userId);
            if (before is { } sequence)
            {
                query = query.Where(l => l.Sequence < sequence);
            }

            // One more than asked says whether there is a next page.
            var rows = await query.OrderByDescending(l => l.Sequence).Take(take + 1).ToListAsync(ct);
            var page = rows.Take(take).Select(LedgerEntryView.From).ToList();
            return Results.Ok(new LedgerPage(userId, page, rows.Count > take ? page[^1].Sequence : null));
        }).RequireReadKey();

        accounts.MapPost("/{userId}/top-ups", async (string userId, HttpRequest request, TopUpService topUps, CancellationToken ct) =>
        {
            // The key is checked before the body is read: an unauthenticated caller learns nothing from validation.
            if (CreditsAdminKey.Check(request) is { } refusal)
            {
                CreditsMetrics.TopUps.WithLabels("unauthorized").Inc();
                return refusal;
            }

            TopUpRequest? body;
            try
            {
                body = await JsonSerializer.DeserializeAsync<TopUpRequest>(request.Body, RequestJson, ct);
            }
            catch (JsonException)
            {
                return BadRequest("invalid_json", "The body must be JSON like {\"amount\": 10.5, \"reference\": \"inv-123\"}.");
            }

            var reference = body?.Reference?.Trim();
            var error = body?.Amount is not { } amount ? "amount is required"
                : CreditRules.ValidateTopUp(amount) is { } invalid ? invalid
                : string.IsNullOrEmpty(reference) ? "reference is required (it makes a repeated top-up apply once)"
                : reference.Length > MaxReferenceLength ? $"reference is longer than {MaxReferenceLength} characters"
                : userId.Length > MaxUserIdLength ? $"user id is longer than {MaxUserIdLength} characters"
                : null;
            if (error is not null)
            {
                CreditsMetrics.TopUps.WithLabels("rejected").Inc();
                return BadRequest("invalid_top_up", error);
            }

            var result = await topUps.ApplyAsync(userId, body!.Amount!.Value, reference!, ct);
            CreditsMetrics.TopUps.WithLabels(result.Status.ToString().ToLowerInvariant()).Inc();
            var response = new TopUpResponse(result.Entry.UserId, CreditRules.Trim(result.Balance), result.Status == TopUpStatus.Repeat,
                LedgerEntryView.From(result.Entry));
            return result.Status switch
            {
                TopUpStatus.Created => Results.Created($"/api/accounts/{Uri.EscapeDataString(userId)}/ledger", response),
                TopUpStatus.Repeat => Results.Ok(response),
                _ => Results.Json(new
                {
                    error = "reference_conflict",
                    message = $"Reference {reference} was already used for a top-up of another amount or user; nothing was added.",
                }, statusCode: StatusCodes.Status409Conflict),
            };
        });

        var logs = endpoints.MapGroup("/api/webhook-logs").RequireReadKey();
        logs.MapGet("/", async (string? status, string? userId, string? eventId, int? limit, CreditsDbContext db, CancellationToken ct) =>
        {
            if (status is not null and not (CreditEventStatuses.Processed or CreditEventStatuses.Duplicate or CreditEventStatuses.Failed))
            {
                return BadRequest("bad_status", "status must be processed, duplicate or failed.");
            }

            var query = db.EventLog.AsNoTracking();
            if (status is not null)
            {
                query = query.Where(l => l.Status == status);
            }

            if (userId is not null)
            {
                query = query.Where(l => l.UserId == userId);
            }

            if (eventId is not null)
            {
                query = query.Where(l => l.EventId == eventId);
            }

            var rows = await query.OrderByDescending(l => l.ProcessedAt).Take(Math.Clamp(limit ?? 100, 1, 1000)).ToListAsync(ct);
            return Results.Ok(rows.Select(l => new EventLogView(l.MessageId, l.EventId, l.UserId, l.Status, l.Error, l.ReceiptId, l.LedgerEntryId, l.ProcessedAt)));
        });

        // The seed's monitoring query: per status, how many and the latest, over the last hour by default.
        logs.MapGet("/summary", async (int? sinceMinutes, CreditsDbContext db, CancellationToken ct) =>
        {
            var since = DateTime.UtcNow.AddMinutes(-Math.Clamp(sinceMinutes ?? 60, 1, 60 * 24 * 366));
            var rows = await db.EventLog.AsNoTracking()
                .Where(l => l.ProcessedAt >= since)
                .GroupBy(l => l.Status)
                .Select(g => new EventLogSummary(g.Key, g.Count(), g.Max(l => l.ProcessedAt)))
                .ToListAsync(ct);
            return Results.Ok(rows.OrderBy(r => r.Status, StringComparer.Ordinal));
        });
    }

    private static IResult NotFound(string userId) =>
        Results.NotFound(new { error = "not_found", message = $"No credit account for user {userId}." });

    private static IResult BadRequest(string error, string message) => Results.BadRequest(new { error, message });
}

/// <param name="Covered">Whether the balance pays for the call without going below zero.</param>
public sealed record AllowanceView(string UserId, long Quota, decimal Credits, decimal Balance, bool Covered);

public sealed record TopUpRequest(decimal? Amount, string? Reference);

public sealed record TopUpResponse(string UserId, decimal Balance, bool Duplicate, LedgerEntryView Entry);

public sealed record AccountView(
    string UserId, string? Username, decimal Balance, bool IsLow, bool IsExhausted, long EntryCount,
    DateTime CreatedAt, DateTime UpdatedAt, DateTime? LastUsageAt, DateTime? LowNotifiedAt, DateTime? ExhaustedNotifiedAt)
{
    public static AccountView From(CreditAccount a) => new(
        a.UserId, a.Username, CreditRules.Trim(a.Balance), a.IsLow, a.IsExhausted, a.LastSequence,
        a.CreatedAt, a.UpdatedAt, a.LastUsageAt, a.LowNotifiedAt, a.ExhaustedNotifiedAt);
}

public sealed record LedgerEntryView(
    Guid Id, long Sequence, string Kind, decimal Amount, decimal BalanceAfter, decimal? Uncovered, string Reference, string? Model,
    long? Quota, DateTime? OccurredAt, DateTime CreatedAt)
{
    public static LedgerEntryView From(LedgerEntry e) => new(
        e.Id, e.Sequence, e.Kind, CreditRules.Trim(e.Amount), CreditRules.Trim(e.BalanceAfter), e.Uncovered is { } u ? CreditRules.Trim(u) : null,
        e.Reference, e.Model, e.Quota, e.OccurredAt, e.CreatedAt);
}

/// <param name="NextBefore">Pass as <c>?before=</c> for the next (older) page; null on the last page.</param>
public sealed record LedgerPage(string UserId, IReadOnlyList<LedgerEntryView> Entries, long? NextBefore);

public sealed record EventLogView(
    Guid MessageId, string EventId, string? UserId, string Status, string? Error, Guid? ReceiptId, Guid? LedgerEntryId, DateTime ProcessedAt);

public sealed record EventLogSummary(string Status, int Count, DateTime Latest);
