using Microsoft.Extensions.Options;
using Pipeline.Hosting.Bus;

namespace Pipeline.Hosting.Retention;

/// <summary>
/// The <c>Inbox</c> section of a consumer service: how long it remembers the messages it applied. A copy of a message
/// that arrives after its inbox row was deleted is applied again, so the horizon must outlast every way a message
/// comes back: a redelivery after a crash, the outbox republishing after a lost confirm, the whole delayed-retry
/// schedule, a dead letter replayed while a copy of it was applied.
/// </summary>
public sealed class InboxOptions
{
    public const string Section = "Inbox";

    /// <summary>The shortest horizon allowed: longer than any outbox lease (at most an hour) and the in-memory retries.</summary>
    public static readonly TimeSpan MinRetention = TimeSpan.FromHours(1);

    public static readonly TimeSpan MaxRetention = TimeSpan.FromDays(3650);

    /// <summary>Inbox rows older than this are deleted.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>Checks <see cref="InboxOptions"/> against the bus's redelivery schedule, which it must outlast.</summary>
public sealed class InboxOptionsValidator(IOptions<BusOptions> bus) : IValidateOptions<InboxOptions>
{
    public ValidateOptionsResult Validate(string? name, InboxOptions options)
    {
        var key = $"{InboxOptions.Section}:{nameof(InboxOptions.Retention)}";
        if (options.Retention < InboxOptions.MinRetention || options.Retention > InboxOptions.MaxRetention)
        {
            return ValidateOptionsResult.Fail($"{key} must be between {InboxOptions.MinRetention:c} and {InboxOptions.MaxRetention:c} (it is {options.Retention:c}).");
        }

        // A message waits through every delay in turn before its last attempt, so the whole schedule counts.
        var schedule = bus.Value.RedeliverySchedule();
        var redelivery = schedule.Aggregate(TimeSpan.Zero, (sum, delay) => sum + delay);
        if (options.Retention <= redelivery)
        {
            return ValidateOptionsResult.Fail(
                $"{key} ({options.Retention:c}) must be longer than the whole {BusOptions.Section}:{nameof(BusOptions.Redelivery)} schedule " +
                $"({redelivery:c} over {schedule.Count} delays): a message redelivered after its inbox row is deleted would take effect twice.");
        }

        return ValidateOptionsResult.Success;
    }
}
