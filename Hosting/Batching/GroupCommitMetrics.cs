using Prometheus;

namespace Pipeline.Hosting.Batching;

/// <summary>Group commit series, labelled by what is committed (ingress.receipts, sandboxes.lifecycle, …): a fixed set.</summary>
public static class GroupCommitMetrics
{
    public static readonly Histogram BatchSize = Metrics.CreateHistogram(
        "pipeline_group_commit_batch_size", "Items committed together in one transaction.",
        new HistogramConfiguration { LabelNames = ["name"], Buckets = Histogram.ExponentialBuckets(1, 2, 11) });

    /// <summary>
    /// How long a batch's transaction took (its round trips and the disk flush of its commit), apart from the time its
    /// items waited for it: a slow tail here is the database's, a slow tail of the callers' waits with a fast one here is
    /// queueing in the process.
    /// </summary>
    public static readonly Histogram Duration = Metrics.CreateHistogram(
        "pipeline_group_commit_seconds", "Time one group-committed transaction took, from its start to its commit.",
        new HistogramConfiguration { LabelNames = ["name"], Buckets = Histogram.ExponentialBuckets(0.0005, 2, 14) });

    public static readonly Counter SplitBatches = Metrics.CreateCounter(
        "pipeline_group_commit_split_batches_total", "Batches that failed and were committed item by item.", "name");
}
