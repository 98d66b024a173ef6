using System.Net;
using System.Net.Http.Headers;

namespace Pipeline.Consumers.Deliveries.Sending;

/// <summary>What one attempt's outcome means for its delivery.</summary>
public enum AttemptVerdict
{
    /// <summary>2xx.</summary>
    Delivered,

    /// <summary>Anything else (3xx too: redirects are not followed), a timeout or a connection error: try again later.</summary>
    Retry,

    /// <summary>410 Gone: the receiver asks not to be sent anything again; the endpoint is disabled.</summary>
    Gone,
}

/// <summary>The retry schedule with jitter and Retry-After, with no I/O (randomness and time are passed in).</summary>
public static class RetryPolicy
{
    public const double Jitter = 0.2;

    public static AttemptVerdict Classify(int? statusCode) => statusCode switch
    {
        >= 200 and < 300 => AttemptVerdict.Delivered,
        410 => AttemptVerdict.Gone,
        _ => AttemptVerdict.Retry,
    };

    /// <summary>
    /// After <paramref name="attemptsMade"/> attempts all failed: the wait before the next one (the schedule's entry,
    /// ±20%, but never less than an honoured Retry-After), or null when the schedule is used up and the delivery fails.
    /// </summary>
    /// <param name="random">Uniform in [0, 1): where in the jitter band the wait falls.</param>
    public static TimeSpan? NextDelay(
        IReadOnlyList<TimeSpan> schedule, int attemptsMade, TimeSpan? retryAfter, TimeSpan maxRetryAfter, double random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attemptsMade, 1);
        if (attemptsMade >= schedule.Count)
        {
            return null;
        }

        var delay = WithJitter(schedule[attemptsMade], random);
        return retryAfter is { } asked && asked > delay ? (asked < maxRetryAfter ? asked : maxRetryAfter) : delay;
    }

    /// <summary>The first attempt's wait (the schedule's first entry, ±20%).</summary>
    public static TimeSpan FirstDelay(IReadOnlyList<TimeSpan> schedule, double random) => WithJitter(schedule[0], random);

    public static TimeSpan WithJitter(TimeSpan delay, double random) =>
        TimeSpan.FromTicks((long)(delay.Ticks * (1 - Jitter + 2 * Jitter * random)));

    /// <summary>Retry-After is honoured on 429 and 503 only, as a number of seconds or an HTTP date.</summary>
    public static TimeSpan? RetryAfter(HttpStatusCode status, RetryConditionHeaderValue? header, DateTimeOffset now)
    {
        if (status is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable) || header is null)
        {
            return null;
        }

        var wait = header.Delta ?? (header.Date is { } date ? date - now : null);
        return wait is { } w && w > TimeSpan.Zero ? w : null;
    }
}
