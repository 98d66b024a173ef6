using System.ComponentModel.DataAnnotations;

namespace Pipeline.Hosting.Retention;

/// <summary>
/// The <c>Retention</c> section: how the purge of expired rows runs. How long each kind of row is kept is set where
/// the row belongs (<c>Ingress:ReceiptRetention</c>, <c>Inbox:Retention</c>, <c>Outbox:RetainSent</c>, …).
/// </summary>
public sealed class RetentionOptions : IValidatableObject
{
    public const string Section = "Retention";
    public const int MaxBatchSize = 50_000;

    /// <summary>How often every purge runs (each replica adds up to a tenth at random, so replicas drift apart).</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Rows deleted per statement, each in its own short transaction.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>The wait between two batches of one purge, so a large backlog never keeps the database busy for long.</summary>
    public TimeSpan PauseBetweenBatches { get; set; } = TimeSpan.FromMilliseconds(200);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Interval < TimeSpan.FromMilliseconds(100) || Interval > TimeSpan.FromDays(1))
        {
            yield return new ValidationResult($"{Section}:{nameof(Interval)} must be between 00:00:00.100 and 1.00:00:00.", [nameof(Interval)]);
        }

        if (BatchSize is < 1 or > MaxBatchSize)
        {
            yield return new ValidationResult($"{Section}:{nameof(BatchSize)} must be between 1 and {MaxBatchSize}.", [nameof(BatchSize)]);
        }

        if (PauseBetweenBatches < TimeSpan.Zero || PauseBetweenBatches > TimeSpan.FromMinutes(1))
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(PauseBetweenBatches)} must be between 00:00:00 and 00:01:00.", [nameof(PauseBetweenBatches)]);
        }
    }
}
