using System.Text.Json;

namespace Pipeline.Ingress.Webhooks;

/// <summary>Refusals: a short JSON error for the sender, a log line and a metric for the operator.</summary>
public static partial class WebhookResponses
{
    public static IResult Reject(ILogger logger, string provider, int status, string reason, string? detail = null)
    {
        IngressMetrics.Rejected.WithLabels(provider, status.ToString(System.Globalization.CultureInfo.InvariantCulture), reason).Inc();
        LogRejected(logger, provider, status, reason, detail ?? "");
        return Results.Json(new WebhookError(false, reason, detail ?? reason), (JsonSerializerOptions?)null, "application/json", status);
    }

    /// <summary>The headers worth keeping with a receipt: never signatures or credentials.</summary>
    public static string KeepHeaders(IHeaderDictionary headers, IReadOnlyList<string> names)
    {
        var kept = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in names)
        {
            if (headers.TryGetValue(name, out var value) && value.Count > 0)
            {
                var text = value.ToString();
                kept[name.ToLowerInvariant()] = text.Length > 512 ? text[..512] : text;
            }
        }

        return JsonSerializer.Serialize(kept);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected {Provider} webhook with {Status}: {Reason} {Detail}")]
    private static partial void LogRejected(ILogger logger, string provider, int status, string reason, string detail);
}

public sealed record WebhookError(bool Success, string Error, string Message);
