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
    /// default): commit at once. Ingress's receipts linger by default (<c>ReceiptWriter.Linger</c>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")]
    public TimeSpan Linger { get; set; } = TimeSpan.Zero;
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
