using System.ComponentModel.DataAnnotations;

namespace Pipeline.Consumers.Rooms;

/// <summary>The <c>Rooms</c> section.</summary>
public sealed class RoomsOptions : IValidatableObject
{
    public const string Section = "Rooms";

    public static readonly TimeSpan MinFinishedRetention = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxFinishedRetention = TimeSpan.FromDays(3650);

    /// <summary>A finished room (with its sessions, tracks, egress results and events) is deleted once nothing has changed it for this long.</summary>
    public TimeSpan FinishedRetention { get; set; } = TimeSpan.FromDays(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (FinishedRetention < MinFinishedRetention || FinishedRetention > MaxFinishedRetention)
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(FinishedRetention)} must be between {MinFinishedRetention:c} and {MaxFinishedRetention:c} (it is {FinishedRetention:c}).",
                [nameof(FinishedRetention)]);
        }
    }
}
