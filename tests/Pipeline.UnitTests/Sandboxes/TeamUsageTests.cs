using Pipeline.Consumers.Sandboxes;

namespace Pipeline.UnitTests.Sandboxes;

public class TeamUsageTests
{
    private static readonly DateTime Now = new(2026, 12, 2, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public void The_window_defaults_to_the_30_days_before_now()
    {
        Assert.Equal((Now.AddDays(-30), Now, (string?)null), TeamUsage.ParseWindow(null, null, Now));
        Assert.Equal((new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc), (string?)null),
            TeamUsage.ParseWindow("2026-11-01T00:00:00Z", "2026-12-01T01:00:00+01:00", Now));
    }

    [Theory]
    [InlineData("yesterday", null)]
    [InlineData(null, "2026-13-01")]
    [InlineData("2026-12-01T00:00:00Z", "2026-12-01T00:00:00Z")]
    [InlineData("2026-12-02T00:00:00Z", "2026-12-01T00:00:00Z")]
    public void A_window_that_does_not_parse_or_is_empty_is_refused(string? from, string? to) =>
        Assert.NotNull(TeamUsage.ParseWindow(from, to, Now).Error);

    [Fact]
    public void Each_template_is_priced_on_its_own_and_the_team_total_adds_them()
    {
        var options = new SandboxesOptions { PricePerSecond = new(StringComparer.OrdinalIgnoreCase) { ["base"] = 0.000014m, ["gpu"] = 0.001m } };
        var report = TeamUsage.Report("team-1", Now.AddDays(-1), Now, [new("gpu", 1, 60), new("base", 3, 3600.5)], options);

        Assert.Equal((4, 3660.5, 0.110407m), (report.Sandboxes, report.BilledSeconds, report.Cost));
        Assert.Equal(["base", "gpu"], report.Templates.Select(t => t.TemplateId));
        Assert.Equal((0.000014m, 0.050407m), (report.Templates[0].PricePerSecond, report.Templates[0].Cost));
        Assert.Equal(0.06m, report.Templates[1].Cost);
    }

    [Fact]
    public void Without_a_price_for_a_billed_template_the_total_cost_is_unknown_not_understated()
    {
        var options = new SandboxesOptions { PricePerSecond = new(StringComparer.OrdinalIgnoreCase) { ["base"] = 0.00001m } };

        var report = TeamUsage.Report("team-1", Now.AddDays(-1), Now, [new("base", 1, 100), new("custom", 1, 50), new(null, 1, 0)], options);

        Assert.Null(report.Cost);
        Assert.Equal(0.001m, report.Templates.Single(t => t.TemplateId == "base").Cost);
        Assert.Null(report.Templates.Single(t => t.TemplateId == "custom").Cost);
        // A template with no billed seconds costs nothing, priced or not.
        Assert.Equal(0.001m, TeamUsage.Report("team-1", Now.AddDays(-1), Now, [new("base", 1, 100), new(null, 2, 0)], options).Cost);
    }
}
