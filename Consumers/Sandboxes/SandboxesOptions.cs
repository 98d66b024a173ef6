using System.ComponentModel.DataAnnotations;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>The <c>Sandboxes</c> section.</summary>
public sealed class SandboxesOptions : IValidatableObject
{
    public const string Section = "Sandboxes";

    public static readonly TimeSpan MinKilledRetention = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxKilledRetention = TimeSpan.FromDays(3650);
    public static readonly TimeSpan MinStaleAfter = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxStaleAfter = TimeSpan.FromDays(365);
    public static readonly TimeSpan MinStaleCheckInterval = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxStaleCheckInterval = TimeSpan.FromDays(1);

    /// <summary>A killed sandbox is deleted once nothing has changed it for this long.</summary>
    public TimeSpan KilledRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>A running or paused sandbox with no lifecycle event for this long is marked stale (and announced once).</summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often the stale check runs (each replica adds up to a tenth at random).</summary>
    public TimeSpan StaleCheckInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Price of one billed running second, by template id, for the team usage report.</summary>
    public Dictionary<string, decimal> PricePerSecond { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Price of one billed running second of a template not in <see cref="PricePerSecond"/>; none: its cost is unknown (null).</summary>
    public decimal? DefaultPricePerSecond { get; set; }

    /// <summary>The price of one second of <paramref name="templateId"/>, or null when none is configured.</summary>
    public decimal? PriceOf(string? templateId) =>
        templateId is not null && PricePerSecond.TryGetValue(templateId, out var price) ? price : DefaultPricePerSecond;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (KilledRetention < MinKilledRetention || KilledRetention > MaxKilledRetention)
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(KilledRetention)} must be between {MinKilledRetention:c} and {MaxKilledRetention:c} (it is {KilledRetention:c}).",
                [nameof(KilledRetention)]);
        }

        if (StaleAfter < MinStaleAfter || StaleAfter > MaxStaleAfter)
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(StaleAfter)} must be between {MinStaleAfter:c} and {MaxStaleAfter:c} (it is {StaleAfter:c}).",
                [nameof(StaleAfter)]);
        }

        if (StaleCheckInterval < MinStaleCheckInterval || StaleCheckInterval > MaxStaleCheckInterval)
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(StaleCheckInterval)} must be between {MinStaleCheckInterval:c} and {MaxStaleCheckInterval:c} (it is {StaleCheckInterval:c}).",
                [nameof(StaleCheckInterval)]);
        }

        foreach (var (template, price) in PricePerSecond.Where(p => p.Value < 0).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(PricePerSecond)}:{template} must be 0 or more (it is {price}).", [nameof(PricePerSecond)]);
        }

        if (DefaultPricePerSecond < 0)
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(DefaultPricePerSecond)} must be 0 or more (it is {DefaultPricePerSecond}).", [nameof(DefaultPricePerSecond)]);
        }
    }
}
