using System.Collections.Frozen;
using Microsoft.Extensions.Options;
using Pipeline.Ingress.Webhooks;

namespace Pipeline.Ingress.Providers.Generic;

/// <summary>
/// Each configured source as a provider, rebuilt whenever <c>Sources</c> changes (no restart). A reload that fails
/// validation is logged by the options monitor, and the last valid configuration stays in force.
/// </summary>
public sealed partial class GenericSourceResolver(
    IOptionsMonitor<GenericSourcesOptions> options, TimeProvider clock, ILogger<GenericSourceResolver> logger)
{
    private Snapshot _snapshot = new(null, FrozenDictionary<string, IWebhookProvider>.Empty);

    /// <summary>Source <paramref name="name"/>, or null when no such source is configured.</summary>
    public IWebhookProvider? Resolve(string name) => Current().Routes.GetValueOrDefault(name);

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
            s => s.Key, s => (IWebhookProvider)new GenericSourceProvider(GenericSource.From(s.Key, s.Value), clock), StringComparer.Ordinal));
        _snapshot = snapshot;
        LogSourcesLoaded(logger, snapshot.Routes.Count, string.Join(", ", current.Sources.Select(s => $"{s.Key} ({s.Value.Scheme})")));
        return snapshot;
    }

    private sealed record Snapshot(GenericSourcesOptions? Options, FrozenDictionary<string, IWebhookProvider> Routes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Webhook sources: {Count} configured: {Sources}")]
    private static partial void LogSourcesLoaded(ILogger logger, int count, string sources);
}
