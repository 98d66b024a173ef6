using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.DependencyInjection;

namespace Pipeline.Hosting.Batching;

/// <summary>How a <see cref="GroupCommit{TItem, TResult}"/> batches: bound to a section per use (e.g. <c>Ingress:GroupCommit</c>).</summary>
public sealed class GroupCommitOptions
{
    /// <summary>
    /// The most items one transaction holds (256: with one writer, a consumer's backlog drained about a quarter faster
    /// than with 128, and each event cost less CPU; <c>benchmarks/e2e</c>).
    /// </summary>
    [Range(1, 10_000)]
    public int MaxBatch { get; set; } = 256;

    /// <summary>
    /// Transactions in flight at once. One by default: the next batch gathers while one commits, so batches are larger
    /// and there are fewer transactions per item (measured with <c>benchmarks/e2e</c>: less CPU per event and lower
    /// latency than with two on a small machine). With a partition key, each writer takes its own share of the keys.
    /// </summary>
    [Range(1, 64)]
    public int Writers { get; set; } = 1;

    /// <summary>
    /// How long a writer that found only a few items (fewer than <see cref="GroupCommit{TItem, TResult}.LingerBelow"/>)
    /// waits, once, for more before it commits: at a moderate rate the items of a few milliseconds then share one commit
    /// instead of a commit each two or three (each caller waits up to this much longer for its answer). Zero (the
    /// default): commit at once. Ingress's receipts linger by default (<c>ReceiptWriter.Linger</c>), and so do the
    /// busy consumers' messages (<see cref="ConsumerLinger"/>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan Linger { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// The default <see cref="Linger"/> of Sandboxes' and Credits' messages: 5 ms. In warm soaks of E2B events at
    /// 1,000/s it made Sandboxes' commits hold 11-12 messages instead of 5-6, and the machine spent 1.30-1.53 ms of CPU
    /// an event instead of 1.62-1.75 (PostgreSQL 0.26-0.31 ms instead of 0.35-0.39); a backlog still drains at 0.89-0.99
    /// of the bus floor, since a batch of 8 or more never lingers (<c>benchmarks/e2e</c>, docs/performance.md). A
    /// message is acknowledged up to this much later.
    /// </summary>
    public static readonly TimeSpan ConsumerLinger = TimeSpan.FromMilliseconds(5);
}

public static class GroupCommitRegistration
{
    /// <summary>
    /// Binds the named <see cref="GroupCommitOptions"/> <paramref name="name"/> to <paramref name="section"/>, validated at
    /// start-up: one name per use, so services sharing a process (Standalone) keep their own settings.
    /// </summary>
    /// <param name="linger">The default <see cref="GroupCommitOptions.Linger"/> of this use, when the section does not set one.</param>
    public static IServiceCollection AddGroupCommitOptions(this IServiceCollection services, string name, string section, TimeSpan linger = default)
    {
        services.AddOptions<GroupCommitOptions>(name).Configure(o => o.Linger = linger).BindConfiguration(section)
            .ValidateDataAnnotations().ValidateOnStart();
        return services;
    }
}
