namespace Pipeline.Consumers.Deliveries.Events;

/// <summary>
/// An endpoint's subscriptions: exact type names, <c>prefix.*</c> (every type under a prefix of the catalogue) or
/// <c>*</c> (everything). Checked against the catalogue when registered, so a typo is refused instead of never matching.
/// </summary>
public static class EventSubscriptions
{
    public const string All = "*";
    public const int MaxPatterns = 100;

    /// <returns>null when every pattern is valid, else what is wrong, with the catalogue.</returns>
    public static string? Validate(IReadOnlyList<string>? patterns)
    {
        if (patterns is null || patterns.Count == 0)
        {
            return "eventTypes must list at least one event type (exact name, prefix.* or *). Known types: " + string.Join(", ", EventCatalogue.Types);
        }

        if (patterns.Count > MaxPatterns)
        {
            return $"eventTypes may list at most {MaxPatterns} patterns.";
        }

        var unknown = patterns.Where(p => !IsValid(p)).ToList();
        if (unknown.Count == 0)
        {
            return null;
        }

        // Quoted back, but only a few and each cut short: the answer and the log line stay small whatever was sent.
        var quoted = string.Join(", ", unknown.Take(MaxQuoted).Select(u => $"'{Shorten(u)}'")) + (unknown.Count > MaxQuoted ? $" and {unknown.Count - MaxQuoted} more" : "");
        return $"Unknown event type(s): {quoted}. Known types: {string.Join(", ", EventCatalogue.Types)} (or prefix.* or *).";
    }

    private const int MaxQuoted = 5;
    private const int MaxQuotedLength = 100;

    private static string Shorten(string? pattern) =>
        pattern is null ? "null" : pattern.Length > MaxQuotedLength ? pattern[..MaxQuotedLength] + "…" : pattern;

    public static bool Matches(IEnumerable<string> patterns, string type) => patterns.Any(p => Matches(p, type));

    public static bool Matches(string pattern, string type) =>
        pattern == All
        || (pattern.EndsWith(".*", StringComparison.Ordinal) && type.StartsWith(pattern.AsSpan(0, pattern.Length - 1), StringComparison.Ordinal))
        || pattern == type;

    private static bool IsValid(string? pattern) =>
        pattern is not null
        && (pattern == All
            || EventCatalogue.IsKnown(pattern)
            || (pattern.EndsWith(".*", StringComparison.Ordinal) && pattern.Length > 2 && EventCatalogue.Types.Any(t => Matches(pattern, t))));
}
