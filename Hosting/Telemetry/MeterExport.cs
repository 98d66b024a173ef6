using Prometheus;

namespace Pipeline.Hosting.Telemetry;

/// <summary>
/// Exports .NET Meters (MassTransit, ASP.NET Core, Npgsql, EF Core, the runtime) at /metrics from the moment the host
/// is built. prometheus-net's own adapter would only start listening at the first scrape, and every count recorded
/// before it (the messages a consumer handles right after start-up) would be missing for good.
/// </summary>
public static class MeterExport
{
    private static readonly double[] MillisecondBuckets = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 15000, 60000];

    private static readonly Lazy<IDisposable> Adapter = new(() =>
    {
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions { SuppressMeters = true });
        return MeterAdapter.StartListening(new MeterAdapterOptions
        {
            // The runtime's private QUIC diagnostics are noise here (no HTTP/3).
            InstrumentFilterPredicate = instrument =>
                !instrument.Meter.Name.StartsWith("Private.InternalDiagnostics.", StringComparison.Ordinal),
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
