using System.ComponentModel.DataAnnotations;

namespace Pipeline.Hosting.Bus;

public enum BusTransport
{
    RabbitMq,

    /// <summary>For the embedded demo only: not durable, a crash loses what it holds.</summary>
    InMemory,
}

/// <summary>The <c>Bus</c> section.</summary>
public sealed class BusOptions : IValidatableObject
{
    public const string Section = "Bus";

    public BusTransport Transport { get; set; } = BusTransport.RabbitMq;

    /// <summary>amqp://user:password@host:port/vhost</summary>
    public string? RabbitMq { get; set; }

    /// <summary>The port of a <see cref="RabbitMq"/> URI: the one it names, else 5671 for amqps and 5672 for amqp.</summary>
    public static int PortOf(Uri uri) => uri.IsDefaultPort ? (uri.Scheme == "amqps" ? 5671 : 5672) : uri.Port;

    /// <summary>
    /// The RabbitMQ management API (for dead-letter operations); default: the broker's host, https on port 15671 for an
    /// amqps:// broker, http on port 15672 for amqp://. Must be https:// when the broker is amqps://.
    /// </summary>
    public string? RabbitMqManagement { get; set; }

    /// <summary>Messages a consumer endpoint works on at once.</summary>
    [Range(1, 1024)]
    public int PrefetchCount { get; set; } = 32;

    /// <summary>In-memory retries of a failing message (exponential, 100 ms up to 10 s) before it leaves the process.</summary>
    [Range(0, 20)]
    public int RetryLimit { get; set; } = 6;

    /// <summary>
    /// Deliveries without an acknowledgement (the consumer process died holding the message) that a quorum queue
    /// allows before RabbitMQ dead-letters the message to <c>&lt;queue&gt;_error</c>.
    /// </summary>
    [Range(1, 1000)]
    public int DeliveryLimit { get; set; } = 20;

    /// <summary>
    /// Delays of the second level of retries (RabbitMQ only): after the in-memory retries, a message that failed for
    /// a passing reason waits in a TTL queue for each of these in turn before <c>&lt;queue&gt;_error</c>.
    /// Unset: 1, 5 and 15 minutes.
    /// </summary>
    public TimeSpan[]? Redelivery { get; set; }

    public static readonly IReadOnlyList<TimeSpan> DefaultRedelivery =
        [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15)];

    public IReadOnlyList<TimeSpan> RedeliverySchedule() => Redelivery ?? DefaultRedelivery;

    public Uri ManagementUri() => ManagementApi.Resolve(new Uri(RabbitMq!), RabbitMqManagement, $"{Section}:{nameof(RabbitMqManagement)}");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var result in RedeliveryProblems())
        {
            yield return result;
        }

        if (Transport != BusTransport.RabbitMq)
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(RabbitMq) || !Uri.TryCreate(RabbitMq, UriKind.Absolute, out var uri) ||
            (uri.Scheme != "amqp" && uri.Scheme != "amqps"))
        {
            yield return new ValidationResult(
                "Bus:RabbitMq must be an amqp:// or amqps:// URI (for example amqp://guest:guest@127.0.0.1:5672/).",
                [nameof(RabbitMq)]);
        }
        else if (ManagementApi.Problem(uri, RabbitMqManagement, $"{Section}:{nameof(RabbitMqManagement)}") is { } management)
        {
            yield return new ValidationResult(management, [nameof(RabbitMqManagement)]);
        }
    }

    private IEnumerable<ValidationResult> RedeliveryProblems()
    {
        var schedule = Redelivery ?? [];
        if (schedule.Length > 10)
        {
            yield return new ValidationResult("Bus:Redelivery may have at most 10 delays.", [nameof(Redelivery)]);
        }

        for (var i = 0; i < schedule.Length; i++)
        {
            // A TTL queue takes whole milliseconds; above a day a message is better off in the dead letters.
            if (schedule[i] < TimeSpan.FromMilliseconds(1) || schedule[i] > TimeSpan.FromDays(1))
            {
                yield return new ValidationResult(
                    $"Bus:Redelivery:{i} must be between 00:00:00.001 and 1.00:00:00 (it is {schedule[i]}).", [nameof(Redelivery)]);
            }
        }
    }
}
