using System.Text.Json;

namespace Pipeline.Ingress.Webhooks;

/// <summary>Refusals: a short JSON error for the sender, a log line and a metric for the operator.</summary>
public static partial class WebhookResponses
{
    private const int MaxHeaderValueLength = 512;

    /// <summary>The longest detail logged and answered: one may quote what the sender sent (its Content-Type).</summary>
    public const int MaxDetailLength = 300;

    /// <param name="log">False where the caller logs the refusal itself (once, rather than per request).</param>
    public static IResult Reject(ILogger logger, string provider, int status, string reason, string? detail = null, bool log = true)
    {
        IngressMetrics.Rejected.WithLabels(provider, status.ToString(System.Globalization.CultureInfo.InvariantCulture), reason).Inc();
        if (detail?.Length > MaxDetailLength)
        {
            detail = detail[..(MaxDetailLength - 1)] + "…";
        }

        if (log)
        {
            LogRejected(logger, provider, status, reason, detail ?? "");
        }

        return Results.Json(new WebhookError(false, reason, detail ?? reason), (JsonSerializerOptions?)null, "application/json", status);
    }

    /// <summary>The headers worth keeping with a receipt, as JSON: never signatures or credentials.</summary>
    public static string KeepHeaders(IHeaderDictionary headers, IReadOnlyList<string> names) =>
        JsonSerializer.Serialize(KeptHeaderValues(headers, names));

    /// <summary>The headers of <paramref name="names"/> that were sent: lower-case names, values cut at 512 characters.</summary>
    public static IReadOnlyDictionary<string, string> KeptHeaderValues(IHeaderDictionary headers, IReadOnlyList<string> names)
    {
        var kept = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            if (headers.TryGetValue(name, out var value) && value.Count > 0)
            {
                var text = value.ToString();
                kept[name.ToLowerInvariant()] = text.Length > MaxHeaderValueLength ? text[..MaxHeaderValueLength] : text;
            }
        }

        return kept;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rejected {Provider} webhook with {Status}: {Reason} {Detail}")]
    private static partial void LogRejected(ILogger logger, string provider, int status, string reason, string detail);
}

public sealed record WebhookError(bool Success, string Error, string Message);
