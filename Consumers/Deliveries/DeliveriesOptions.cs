using System.ComponentModel.DataAnnotations;

namespace Pipeline.Consumers.Deliveries;

/// <summary>The <c>Deliveries</c> section: how outbound webhooks are sent, retried and guarded.</summary>
public sealed class DeliveriesOptions : IValidatableObject
{
    public const string Section = "Deliveries";

    /// <summary>Svix's schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (8 attempts).</summary>
    public static readonly IReadOnlyList<TimeSpan> DefaultRetrySchedule =
    [
        TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(2), TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10),
    ];

    /// <summary>Endpoints may resolve to loopback, private, link-local or unique-local addresses (never to cloud metadata).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Endpoints may use plain http:// (else HTTPS only).</summary>
    public bool AllowHttp { get; set; }

    /// <summary>One attempt (connect, send, response headers and the first 4 KiB of the body) gives up after this long.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The wait before each attempt: the first entry before the first attempt (normally 0), entry n before attempt
    /// n + 1. Each wait gets ±20% jitter. After the last attempt a delivery is failed. Unset: <see cref="DefaultRetrySchedule"/>.
    /// </summary>
    public TimeSpan[]? RetrySchedule { get; set; }

    /// <summary>The longest Retry-After (429, 503) honoured; a longer one waits this long.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "2.00:00:00")]
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Sends to one endpoint at once, per replica: a slow or dead endpoint holds only these.</summary>
    [Range(1, 256)]
    public int MaxInFlightPerEndpoint { get; set; } = 8;

    /// <summary>Sends at once across all endpoints, per replica.</summary>
    [Range(1, 10_000)]
    public int MaxInFlight { get; set; } = 256;

    /// <summary>
    /// Endpoints there may be, enabled or not: each enabled one has a lane in every replica and its rows in every
    /// fan-out, and the statistics read each one. Creating one more is refused with 409.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxEndpoints { get; set; } = 1000;

    /// <summary>How long a claimed delivery stays with one replica; after that (a crash) another one sends it again.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "01:00:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The longest an endpoint's lane sleeps without a signal before it looks for due deliveries again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the set of enabled endpoints (and their settings) is reloaded from the database.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan EndpointRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>An endpoint whose every attempt has failed for this long is disabled (any success starts the count again).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan FailingPeriodBeforeDisable { get; set; } = TimeSpan.FromDays(5);

    /// <summary>A recover without its own rate schedules the deliveries it puts back at this many a second.</summary>
    [Range(1, 100_000)]
    public int RecoverRatePerSecond { get; set; } = 50;

    /// <summary>After a secret rotation the old secret keeps signing beside the new one this long.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan SecretRotationOverlap { get; set; } = TimeSpan.FromHours(24);

    public IReadOnlyList<TimeSpan> EffectiveRetrySchedule() => RetrySchedule ?? DefaultRetrySchedule;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var schedule = RetrySchedule ?? [];
        if (RetrySchedule is { Length: 0 } || schedule.Length > 50)
        {
            yield return new ValidationResult($"{Section}:{nameof(RetrySchedule)} must have between 1 and 50 entries (one per attempt).", [nameof(RetrySchedule)]);
        }

        for (var i = 0; i < schedule.Length; i++)
        {
            if (schedule[i] < TimeSpan.Zero || schedule[i] > TimeSpan.FromDays(7))
            {
                yield return new ValidationResult(
                    $"{Section}:{nameof(RetrySchedule)}:{i} must be between 00:00:00 and 7.00:00:00 (it is {schedule[i]}).", [nameof(RetrySchedule)]);
            }
        }

        // A lease shorter than an attempt would let a second replica send the same attempt while the first still waits.
        if (Lease < Timeout + TimeSpan.FromSeconds(10))
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(Lease)} ({Lease}) must be at least {Section}:{nameof(Timeout)} ({Timeout}) plus 10 seconds.", [nameof(Lease)]);
        }

        if (MaxInFlightPerEndpoint > MaxInFlight)
        {
            yield return new ValidationResult(
                $"{Section}:{nameof(MaxInFlightPerEndpoint)} ({MaxInFlightPerEndpoint}) must not exceed {Section}:{nameof(MaxInFlight)} ({MaxInFlight}).",
                [nameof(MaxInFlightPerEndpoint)]);
        }
    }
}
