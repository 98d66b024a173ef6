using Prometheus;

namespace Pipeline.Hosting.Retention;

/// <summary>Table sizes and what the purges delete, labelled by table name (a fixed set: the tables of the service's model).</summary>
public static class RetentionMetrics
{
    public static readonly Gauge TableRows = Metrics.CreateGauge(
        "pipeline_table_rows",
        "Rows in each table of the service. Exact for a small table (PostgreSQL: up to 8 MiB; SQL Server: below " +
        $"{TableRowCounts.ExactCountBelow} rows); above, PostgreSQL's live-row statistics (pg_stat_user_tables.n_live_tup) " +
        "or SQL Server's partition row counts.",
        "table");

    public static readonly Counter DeletedRows = Metrics.CreateCounter(
        "pipeline_retention_deleted_rows_total", "Rows deleted from each table because they outlived its retention.", "table");

    public static readonly Counter PurgeFailures = Metrics.CreateCounter(
        "pipeline_retention_failures_total", "Purge rounds that failed (retried at the next round).", "table");
}
