namespace Pipeline.Ingress.Providers.Generic;

/// <summary>One configured source, resolved from <c>Sources:{name}</c>: what its route verifies and normalizes with.</summary>
public sealed record GenericSource
{
    public required string Name { get; init; }

    /// <summary>The canonical scheme name (<see cref="SourceSchemes"/>).</summary>
    public required string Scheme { get; init; }

    /// <summary>The non-blank configured secrets; empty means the source is disabled.</summary>
    public IReadOnlyList<string> Secrets { get; init; } = [];

    public TimeSpan Tolerance { get; init; } = GenericSourceOptions.DefaultTolerance;
    public int? MaxBodyBytes { get; init; }
    public string? TokenHeader { get; init; }

    /// <summary>One of <see cref="SourceFormats"/>, as configured; null for the scheme's default.</summary>
    public string? ConfiguredFormat { get; init; }

    /// <summary>Whether a body must be JSON (<see cref="SourceFormats"/>).</summary>
    public string Format => SourceFormats.Resolve(ConfiguredFormat, Scheme) ?? SourceFormats.Json;

    public bool IsEnabled => Secrets.Count > 0;

    /// <summary>Recorded with the receipt and the message; never the token header.</summary>
    public IReadOnlyList<string> KeptHeaders =>
        [.. SourceSchemes.KeptHeaders(Scheme).Where(h => !string.Equals(h, TokenHeader, StringComparison.OrdinalIgnoreCase))];

    public static GenericSource From(string name, GenericSourceOptions options)
    {
        var scheme = SourceSchemes.Find(options.Scheme) ?? throw new ArgumentException($"Unknown scheme '{options.Scheme}'.", nameof(options));
        return new GenericSource
        {
            Name = name,
            Scheme = scheme,
            Secrets = [.. options.Secrets.Where(s => !string.IsNullOrWhiteSpace(s))],
            Tolerance = options.Tolerance ?? GenericSourceOptions.DefaultTolerance,
            MaxBodyBytes = options.MaxBodyBytes,
            TokenHeader = string.IsNullOrWhiteSpace(options.TokenHeader) ? null : options.TokenHeader.Trim(),
            ConfiguredFormat = SourceFormats.Resolve(options.Format, scheme) is null
                ? throw new ArgumentException($"Unknown format '{options.Format}'.", nameof(options))
                : options.Format,
        };
    }
}
