using System.Globalization;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>One template's sandboxes in a team's usage window, as the database sums them.</summary>
public sealed record TemplateTotals(string? TemplateId, int Sandboxes, double BilledSeconds);

/// <param name="PricePerSecond">From <c>Sandboxes:PricePerSecond</c> (or the default); null: not priced, so no cost.</param>
public sealed record TemplateUsage(string? TemplateId, int Sandboxes, double BilledSeconds, decimal? PricePerSecond, decimal? Cost);

/// <param name="Cost">The sum of the templates' costs; null when any template with billed seconds has no price.</param>
public sealed record TeamUsageReport(
    string TeamId, DateTime From, DateTime To, int Sandboxes, double BilledSeconds, decimal? Cost, IReadOnlyList<TemplateUsage> Templates);

/// <summary>A team's billed running seconds and their cost over a window, with no I/O.</summary>
public static class TeamUsage
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromDays(30);

    /// <summary>Costs are kept to 8 decimal places, as credits are.</summary>
    public const int CostScale = 8;

    /// <summary>
    /// [from, to) from ISO 8601 times (an offset or Z, else UTC); <paramref name="to"/> defaults to now and
    /// <paramref name="from"/> to <see cref="DefaultWindow"/> before it.
    /// </summary>
    public static (DateTime? From, DateTime? To, string? Error) ParseWindow(string? from, string? to, DateTime now)
    {
        if (!TryParse(to, out var end) || !TryParse(from, out var start))
        {
            return (null, null, "from and to must be ISO 8601 times, e.g. 2026-12-01T00:00:00Z.");
        }

        var until = end ?? now;
        var since = start ?? until - DefaultWindow;
        return since < until ? (since, until, null) : (null, null, "from must be before to.");
    }

    public static TeamUsageReport Report(string teamId, DateTime from, DateTime to, IEnumerable<TemplateTotals> totals, SandboxesOptions options)
    {
        var templates = totals
            .OrderBy(t => t.TemplateId, StringComparer.Ordinal)
            .Select(t => options.PriceOf(t.TemplateId) is { } price
                ? new TemplateUsage(t.TemplateId, t.Sandboxes, t.BilledSeconds, price, CostOf(t.BilledSeconds, price))
                : new TemplateUsage(t.TemplateId, t.Sandboxes, t.BilledSeconds, null, null))
            .ToList();
        var unpriced = templates.Any(t => t.Cost is null && t.BilledSeconds > 0);
        return new TeamUsageReport(
            teamId, from, to, templates.Sum(t => t.Sandboxes), templates.Sum(t => t.BilledSeconds),
            unpriced ? null : templates.Sum(t => t.Cost ?? 0), templates);
    }

    public static decimal CostOf(double billedSeconds, decimal pricePerSecond) =>
        decimal.Round((decimal)billedSeconds * pricePerSecond, CostScale, MidpointRounding.AwayFromZero);

    private static bool TryParse(string? text, out DateTime? value)
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
        {
            return false;
        }

        value = parsed.UtcDateTime;
        return true;
    }
}
