using System.ComponentModel.DataAnnotations;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>The <c>Sandboxes</c> section.</summary>
public sealed class SandboxesOptions : IValidatableObject
{
    public const string Section = "Sandboxes";

    public static readonly TimeSpan MinKilledRetention = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxKilledRetention = TimeSpan.FromDays(3650);

    /// <summary>A killed sandbox is deleted once nothing has changed it for this long.</summary>
    public TimeSpan KilledRetention { get; set; } = TimeSpan.FromDays(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (KilledRetention < MinKilledRetention || KilledRetention > MaxKilledRetention)
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(KilledRetention)} must be between {MinKilledRetention:c} and {MaxKilledRetention:c} (it is {KilledRetention:c}).",
                [nameof(KilledRetention)]);
        }
    }
}
