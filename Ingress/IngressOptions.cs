using System.ComponentModel.DataAnnotations;
using Pipeline.Ingress.Providers.Generic;

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

    /// <summary>
    /// The dedup window: a receipt is kept this long after it was received (and at least until its messages are
    /// published), and a delivery repeated within it is a duplicate. Repeated after it, a delivery is accepted again.
    /// </summary>
    public TimeSpan ReceiptRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// The shortest dedup window allowed: the longest signature tolerance (<c>Sources:{name}:Tolerance</c>), so a
    /// captured request replayed within its tolerance always finds its receipt.
    /// </summary>
    public static readonly TimeSpan MinReceiptRetention = GenericSourcesValidator.MaxTolerance;

    public static readonly TimeSpan MaxReceiptRetention = TimeSpan.FromDays(3650);

    public int BodyLimitFor(string provider) =>
        MaxBodyBytesByProvider.TryGetValue(provider, out var limit) ? limit : MaxBodyBytes;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (provider, limit) in MaxBodyBytesByProvider)
        {
            if (limit is < MinBodyBytes or > MaxAllowedBodyBytes)
            {
                yield return new ValidationResult(
                    $"{Section}:{nameof(MaxBodyBytesByProvider)}:{provider} must be between {MinBodyBytes} and {MaxAllowedBodyBytes}.",
                    [nameof(MaxBodyBytesByProvider)]);
            }
        }

        if (ReceiptRetention < MinReceiptRetention || ReceiptRetention > MaxReceiptRetention)
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(ReceiptRetention)} must be between {MinReceiptRetention:c} (the longest signature tolerance) " +
                $"and {MaxReceiptRetention:c} (it is {ReceiptRetention:c}).", [nameof(ReceiptRetention)]);
        }
    }
}
