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
        return unknown.Count == 0
            ? null
            : $"Unknown event type(s): {string.Join(", ", unknown.Select(u => $"'{u}'"))}. Known types: {string.Join(", ", EventCatalogue.Types)} (or prefix.* or *).";
    }

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
