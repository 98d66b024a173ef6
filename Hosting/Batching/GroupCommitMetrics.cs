using Prometheus;

namespace Pipeline.Hosting.Batching;

/// <summary>Group commit series, labelled by what is committed (ingress.receipts, sandboxes.lifecycle, …): a fixed set.</summary>
public static class GroupCommitMetrics
{
    public static readonly Histogram BatchSize = Metrics.CreateHistogram(
        "pipeline_group_commit_batch_size", "Items committed together in one transaction.",
        new HistogramConfiguration { LabelNames = ["name"], Buckets = Histogram.ExponentialBuckets(1, 2, 11) });

    public static readonly Counter SplitBatches = Metrics.CreateCounter(
        "pipeline_group_commit_split_batches_total", "Batches that failed and were committed item by item.", "name");
}
