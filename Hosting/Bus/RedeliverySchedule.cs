using System.Globalization;
using System.Text;

namespace Pipeline.Hosting.Bus;

/// <summary>
/// The second level of retries: after the in-memory retries, a message that failed for a passing reason waits in
/// a delay queue for each delay in turn; once they are used up it goes to the dead letters.
/// </summary>
public sealed class RedeliverySchedule(IReadOnlyList<TimeSpan> delays)
{
    public static readonly RedeliverySchedule None = new([]);

    public IReadOnlyList<TimeSpan> Delays { get; } = delays;

    /// <summary>The wait before the next delayed retry of a message that had <paramref name="redeliveries"/>; null when there is none left.</summary>
    public TimeSpan? NextDelay(int redeliveries) =>
        redeliveries >= 0 && redeliveries < Delays.Count ? Delays[redeliveries] : null;

    /// <summary>Whether a fault is worth another attempt later, given what it is and how often the message waited already.</summary>
    public TimeSpan? NextDelay(Exception fault, int redeliveries) =>
        ConsumerPolicies.IsPermanent(fault) ? null : NextDelay(redeliveries);

    /// <summary>The redelivery count a message carries in <see cref="PipelineQueues.RedeliveryCountHeader"/> (0 when absent or unreadable).</summary>
    public static int CountOf(IDictionary<string, object?>? headers)
    {
        if (headers is null || !headers.TryGetValue(PipelineQueues.RedeliveryCountHeader, out var value))
        {
            return 0;
        }

        var count = value switch
        {
            int i => i,
            long l when l is >= 0 and <= int.MaxValue => (int)l,
            byte[] bytes when int.TryParse(Encoding.UTF8.GetString(bytes), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) => parsed,
            string text when int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => 0,
        };
        return Math.Max(count, 0);
    }
}
