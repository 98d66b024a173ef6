using System.Globalization;

namespace Pipeline.Hosting.Bus;

/// <summary>
/// The queues around one consumer queue and their RabbitMQ arguments. Everything here is a name or a table:
/// the filters that move messages between these queues are beside it.
/// </summary>
public static class PipelineQueues
{
    /// <summary>The consumer queues of the services that must receive the domain contracts (<c>OutboxMessageTypes.ConsumerQueueOf</c>).</summary>
    public const string SandboxesLifecycle = "sandboxes-lifecycle";

    public const string CreditsUsage = "credits-usage";
    public const string CreditsAlerts = "credits-alerts";
    public const string CreditsGatewayNotifications = "credits-gateway-notifications";
    public const string RoomsLiveKit = "rooms-livekit";

    public const string ErrorSuffix = "_error";
    public const string IsolatedSuffix = "_isolated";
    public const string DelayInfix = "_delay_";

    /// <summary>Carried by a message that went through a delay queue: how many delayed retries it has had.</summary>
    public const string RedeliveryCountHeader = "Pipeline-Redelivery-Count";

    /// <summary>Carried by a message moved to the isolation queue: the delivery count it had in the consumer queue.</summary>
    public const string IsolatedHeader = "Pipeline-Isolated-After-Deliveries";

    /// <summary>The consumer queue a name belongs to: <c>q_isolated</c> belongs to <c>q</c>.</summary>
    public static string ConsumerQueueOf(string queue) =>
        queue.EndsWith(IsolatedSuffix, StringComparison.Ordinal) ? queue[..^IsolatedSuffix.Length] : queue;

    public static bool IsIsolationQueue(string queue) => queue.EndsWith(IsolatedSuffix, StringComparison.Ordinal);

    public static string ErrorQueue(string queue) => ConsumerQueueOf(queue) + ErrorSuffix;

    /// <summary>Where a message that was delivered before without an outcome is worked on alone.</summary>
    public static string IsolationQueue(string queue) => ConsumerQueueOf(queue) + IsolatedSuffix;

    /// <summary>
    /// One queue per delay, named after it (<c>q_delay_5m</c>): a changed schedule declares new queues instead of
    /// colliding with the arguments of the old ones.
    /// </summary>
    public static string DelayQueue(string queue, TimeSpan delay) => ConsumerQueueOf(queue) + DelayInfix + DelayLabel(delay);

    /// <summary>1h, 15m, 90s, 1500ms: the largest unit that divides the delay.</summary>
    public static string DelayLabel(TimeSpan delay)
    {
        var ms = (long)delay.TotalMilliseconds;
        return ms % 3_600_000 == 0 ? $"{ms / 3_600_000}h"
            : ms % 60_000 == 0 ? $"{ms / 60_000}m"
            : ms % 1_000 == 0 ? $"{ms / 1_000}s"
            : ms.ToString(CultureInfo.InvariantCulture) + "ms";
    }

    /// <summary>
    /// The consumer queue and its isolation queue: a message delivered more than <paramref name="deliveryLimit"/>
    /// times without an acknowledgement is dead-lettered by RabbitMQ to <c>q_error</c>, at least once.
    /// </summary>
    public static Dictionary<string, object> ConsumerQueueArguments(string queue, int deliveryLimit) => new()
    {
        ["x-queue-type"] = "quorum",
        ["x-delivery-limit"] = deliveryLimit,
        ["x-dead-letter-exchange"] = "",
        ["x-dead-letter-routing-key"] = ErrorQueue(queue),
        // At-least-once dead-lettering (quorum queues, RabbitMQ 3.10+) keeps the message until q_error confirmed it;
        // it requires reject-publish overflow, which has no effect without a length limit.
        ["x-dead-letter-strategy"] = "at-least-once",
        ["x-overflow"] = "reject-publish",
    };

    /// <summary>A delay queue: nobody consumes it; a message expires after the delay and flows back to the consumer queue.</summary>
    public static Dictionary<string, object> DelayQueueArguments(string queue, TimeSpan delay) => new()
    {
        ["x-queue-type"] = "quorum",
        ["x-message-ttl"] = (long)delay.TotalMilliseconds,
        ["x-dead-letter-exchange"] = "",
        ["x-dead-letter-routing-key"] = ConsumerQueueOf(queue),
        ["x-dead-letter-strategy"] = "at-least-once",
        ["x-overflow"] = "reject-publish",
    };

    /// <summary>
    /// <c>q_error</c> as MassTransit declares it once the consumer queue's own arguments are taken off
    /// (<see cref="ArgumentsErrorQueuesMustNotCopy"/>): browsing a dead letter returns it to the queue, so a delivery
    /// limit or a dead-letter target there would drop or cycle dead letters that operators only looked at.
    /// </summary>
    public static Dictionary<string, object> ErrorQueueArguments() => new() { ["x-queue-type"] = "quorum" };

    /// <summary>MassTransit copies a receive queue's arguments to its <c>_error</c> and <c>_skipped</c> queues.</summary>
    public static readonly IReadOnlyList<string> ArgumentsErrorQueuesMustNotCopy =
    [
        "x-delivery-limit", "x-dead-letter-exchange", "x-dead-letter-routing-key", "x-dead-letter-strategy", "x-overflow",
        "x-message-ttl", "x-single-active-consumer",
    ];
}
