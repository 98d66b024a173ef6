using System.ComponentModel.DataAnnotations;

namespace Pipeline.Ingress;

/// <summary>The <c>Ingress</c> section.</summary>
public sealed class IngressOptions : IValidatableObject
{
    public const string Section = "Ingress";
    public const int MinBodyBytes = 1024;
    public const int MaxAllowedBodyBytes = 16 * 1024 * 1024;

    /// <summary>Bodies larger than this are refused with 413 before they are read in full.</summary>
    [Range(MinBodyBytes, MaxAllowedBodyBytes)]
    public int MaxBodyBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// <c>Ingress:MaxBodyBytesByProvider:{provider}</c> (e2b, livekit, new-api): that provider's own limit instead of
    /// <see cref="MaxBodyBytes"/>. A generic source sets its own with <c>Sources:{name}:MaxBodyBytes</c>.
    /// </summary>
    public Dictionary<string, int> MaxBodyBytesByProvider { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public int BodyLimitFor(string provider) =>
        MaxBodyBytesByProvider.TryGetValue(provider, out var limit) ? limit : MaxBodyBytes;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext) =>
        MaxBodyBytesByProvider
            .Where(p => p.Value is < MinBodyBytes or > MaxAllowedBodyBytes)
            .Select(p => new ValidationResult(
                $"{Section}:{nameof(MaxBodyBytesByProvider)}:{p.Key} must be between {MinBodyBytes} and {MaxAllowedBodyBytes}.",
                [nameof(MaxBodyBytesByProvider)]));
}
