namespace Pipeline.Consumers.Deliveries.Api;

/// <summary>Seed 004's diagnosis of an endpoint, with no I/O: what looks wrong and what to do about it.</summary>
public sealed record EndpointDiagnosis(IReadOnlyList<string> Issues, IReadOnlyList<string> Recommendations)
{
    public const double SlowSeconds = 5;

    /// <param name="probeStatus">The status of a HEAD request to the URL, or null when none came (<paramref name="probeError"/> says why).</param>
    /// <param name="averageSeconds">The average time of the recent deliveries' last attempts.</param>
    public static EndpointDiagnosis Of(
        bool enabled, string? disabledReason, int? probeStatus, string? probeError, int recentFailed, int recentCount, double? averageSeconds)
    {
        var issues = new List<string>();
        var recommendations = new List<string>();
        if (!enabled)
        {
            issues.Add($"The endpoint is disabled: {disabledReason ?? "no reason recorded"}");
            recommendations.Add("Fix the receiver, enable the endpoint, then recover what it missed (POST /api/endpoints/{id}/recover?since=…).");
        }

        if (probeStatus is null)
        {
            issues.Add($"Cannot reach the endpoint: {probeError}");
            recommendations.Add("Check that the URL is right and the receiver is running and reachable from the Deliveries service.");
        }
        else if (probeStatus >= 500 || probeStatus is 404 or 410)
        {
            // Many receivers answer HEAD with 405; that says nothing about POST.
            issues.Add($"The endpoint answered HEAD with {probeStatus}.");
        }

        if (recentFailed > 5)
        {
            issues.Add($"{recentFailed} of the last {recentCount} deliveries failed.");
            recommendations.Add("Read the failed deliveries' attempts (GET /api/deliveries/{id}) and the receiver's error log.");
        }

        if (averageSeconds > SlowSeconds)
        {
            issues.Add($"Average response time is high: {averageSeconds:0.00} s.");
            recommendations.Add("Answer 2xx at once and do the work after responding (a queue on the receiver's side).");
        }

        return new EndpointDiagnosis(issues, recommendations);
    }
}
