using System.Collections.Frozen;
using Microsoft.Extensions.Options;
using Pipeline.Ingress.Webhooks;

namespace Pipeline.Ingress.Providers.Generic;

/// <summary>
/// The route of each configured source, rebuilt whenever <c>Sources</c> changes (no restart). A reload that fails
/// validation is logged by the options monitor, and the last valid configuration stays in force.
/// </summary>
public sealed partial class GenericSourceResolver(
    IOptionsMonitor<GenericSourcesOptions> options, TimeProvider clock, ILogger<GenericSourceResolver> logger)
{
    private Snapshot _snapshot = new(null, FrozenDictionary<string, WebhookRoute>.Empty);

    /// <summary>The route of source <paramref name="name"/>, or null when no such source is configured.</summary>
    public WebhookRoute? Resolve(string name) => Current().Routes.GetValueOrDefault(name);

    private Snapshot Current()
    {
        // The monitor keeps the last valid Sources when a reload fails validation (KeepLastValidOnReload).
        var current = options.CurrentValue;
        var snapshot = _snapshot;
        if (ReferenceEquals(snapshot.Options, current))
        {
            return snapshot;
        }

        // Several requests may rebuild at once after a change; they build the same thing and the last one wins.
        snapshot = new Snapshot(current, current.Sources.ToFrozenDictionary(
            s => s.Key, s => BuildRoute(GenericSource.From(s.Key, s.Value)), StringComparer.Ordinal));
        _snapshot = snapshot;
        LogSourcesLoaded(logger, snapshot.Routes.Count, string.Join(", ", current.Sources.Select(s => $"{s.Key} ({s.Value.Scheme})")));
        return snapshot;
    }

    private WebhookRoute BuildRoute(GenericSource source) => new()
    {
        Provider = source.Name,
        KeptHeaders = source.KeptHeaders,
        // A disabled source answers 404 whatever it is sent, rather than 415 for some requests.
        AcceptsContentType = source.IsEnabled ? SourceSchemes.AcceptsContentType(source.Scheme) : _ => true,
        MaxBodyBytes = source.MaxBodyBytes,
        Verify = (body, request) => ValueTask.FromResult(GenericSourceVerifier.Verify(source, body, request, clock.GetUtcNow())),
        Normalize = (body, receiptId, request) => Normalize(source, body, receiptId, request),
    };

    private WebhookNormalization Normalize(GenericSource source, byte[] body, Guid receiptId, HttpRequest request)
    {
        var normalized = GenericEventNormalizer.Normalize(source, body, request.Headers, receiptId, clock.GetUtcNow());
        if (normalized.Value is not { } message)
        {
            return WebhookNormalization.Malformed(normalized.Error ?? "malformed body");
        }

        var challenge = source.Scheme == SourceSchemes.Slack && message.EventType == "url_verification"
            ? GenericEventNormalizer.SlackChallenge(body)
            : null;
        return new WebhookNormalization
        {
            DedupKey = normalized.DedupKey,
            Messages = [message],
            Description = Describe(message.EventType),
            Respond = challenge is null ? null : (_, _) => Results.Ok(new { challenge }),
        };
    }

    // The event type is the sender's text: cut short, and only printable ASCII, before it reaches a log line.
    private static string Describe(string? eventType)
    {
        if (string.IsNullOrEmpty(eventType))
        {
            return "delivery";
        }

        var cut = eventType.Length > 64 ? eventType[..64] : eventType;
        return string.Create(cut.Length, cut, (span, text) =>
        {
            for (var i = 0; i < text.Length; i++)
            {
                span[i] = text[i] is >= ' ' and <= '~' ? text[i] : '?';
            }
        });
    }

    private sealed record Snapshot(GenericSourcesOptions? Options, FrozenDictionary<string, WebhookRoute> Routes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook sources: {Count} configured: {Sources}")]
    private static partial void LogSourcesLoaded(ILogger logger, int count, string sources);
}
