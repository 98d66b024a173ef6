using Prometheus;

namespace Pipeline.Hosting.Telemetry;

/// <summary>
/// Exports .NET Meters (MassTransit, ASP.NET Core, Npgsql, EF Core, the runtime) at /metrics from the moment the host
/// is built. prometheus-net's own adapter would only start listening at the first scrape, and every count recorded
/// before it (the messages a consumer handles right after start-up) would be missing for good.
/// </summary>
public static class MeterExport
{
    private static readonly string[] IgnoredMeters =
        ["Private.InternalDiagnostics.", "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Routing", "Microsoft.AspNetCore.MemoryPool"];

    // Npgsql counts the bytes of every buffer it reads or writes: a measurement per network read, nothing an operator of
    // the pipeline acts on (its command counts and durations stay).
    private static readonly string[] IgnoredInstruments =
        ["db.client.operation.npgsql.bytes_read", "db.client.operation.npgsql.bytes_written"];

    private static readonly double[] MillisecondBuckets = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 15000, 60000];

    private static readonly Lazy<IDisposable> Adapter = new(() =>
    {
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true });
        return MeterAdapter.StartListening(new MeterAdapterOptions
        {
            // Left out: the runtime's private QUIC diagnostics (no HTTP/3 here); ASP.NET Core's request and routing meters,
            // which prometheus-net's http_request_* series already give (UseHttpMetrics); Kestrel's memory-pool meter,
            // measured on every buffer rented. Together they were about 5% of Ingress's CPU under load.
            InstrumentFilterPredicate = instrument => !IgnoredMeters.Any(prefix => instrument.Meter.Name.StartsWith(prefix, StringComparison.Ordinal))
                && !IgnoredInstruments.Contains(instrument.Name, StringComparer.Ordinal),
            // prometheus-net drops a series after this long without a measurement (default 5 minutes), and it comes
            // back from zero: a quiet consumer's MassTransit counts would keep vanishing. Our label sets are bounded,
            // so keep them as long as the adapter allows.
            MetricsExpireAfter = TimeSpan.FromDays(1),
            // MassTransit measures in milliseconds: 14 buckets from 1 ms to 1 min instead of the default 25.
            ResolveHistogramBuckets = instrument => instrument.Unit == "ms" ? MillisecondBuckets : MeterAdapterOptions.DefaultHistogramBuckets,
        });
    });

    /// <summary>Starts the export once per process; later calls do nothing.</summary>
    public static void Start() => _ = Adapter.Value;
}
