using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Pipeline.Hosting.Telemetry;

public static class TracingRegistration
{
    /// <summary>
    /// OpenTelemetry tracing for ASP.NET Core requests, MassTransit and the "Pipeline" spans. Spans are always made,
    /// so log lines carry trace ids and the trace crosses the outbox and the broker; they are recorded and exported
    /// over OTLP only when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> or <c>Telemetry:OtlpEndpoint</c> is set. The standard
    /// <c>OTEL_*</c> variables (protocol, headers, sampler, batch delay) apply as usual. Without an exporter every span
    /// is sampled out: it still has its ids and carries its trace on, but no tags or events are gathered for nobody.
    /// </summary>
    public static WebApplicationBuilder AddPipelineTracing(this WebApplicationBuilder builder)
    {
        builder.Services.AddTelemetryOptions();
        var fromVariable = builder.Configuration[TelemetryOptions.OtlpEndpointVariable];
        var fromSection = builder.Configuration[$"{TelemetryOptions.Section}:{nameof(TelemetryOptions.OtlpEndpoint)}"];

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(builder.Environment.ApplicationName))
            .WithTracing(tracing =>
            {
                tracing.AddSource(PipelineTelemetry.SourceName, PipelineTelemetry.MassTransitSourceName)
                    .AddAspNetCoreInstrumentation(o => o.Filter = http => !IsPlumbing(http.Request.Path));
                if (!string.IsNullOrWhiteSpace(fromVariable))
                {
                    tracing.AddOtlpExporter(); // the SDK reads OTEL_EXPORTER_OTLP_* itself
                }
                else if (!string.IsNullOrWhiteSpace(fromSection) && Uri.TryCreate(fromSection, UriKind.Absolute, out var endpoint))
                {
                    tracing.AddOtlpExporter(o => o.Endpoint = ForTraces(endpoint, o.Protocol));
                }
                else
                {
                    tracing.SetSampler(new AlwaysOffSampler());
                }
            });
        return builder;
    }

    /// <summary>Scrapes and probes are not worth a trace each.</summary>
    private static bool IsPlumbing(PathString path) =>
        path.StartsWithSegments("/metrics") || path.StartsWithSegments("/health");

    /// <summary>
    /// Like the SDK does for the variable: over http/protobuf a bare collector address gets the traces path; a gRPC
    /// endpoint is used as given.
    /// </summary>
    private static Uri ForTraces(Uri endpoint, OtlpExportProtocol protocol) =>
        protocol == OtlpExportProtocol.HttpProtobuf && endpoint.AbsolutePath is "" or "/"
            ? new Uri(endpoint, "v1/traces")
            : endpoint;
}
