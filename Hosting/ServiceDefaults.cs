using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Pipeline.Hosting.Access;
using Pipeline.Hosting.Management;
using Pipeline.Hosting.Settings;
using Pipeline.Hosting.Telemetry;
using Prometheus;
using Serilog;
using Serilog.Configuration;
using Serilog.Formatting.Compact;
using Serilog.Formatting.Display;

namespace Pipeline.Hosting;

/// <summary>
/// What every Pipeline host shares: reloadable operator files, logging, tracing, health endpoints and metrics on a
/// management port of their own, and bearer keys for its APIs.
/// </summary>
public static class ServiceDefaults
{
    public const string ReadyTag = "ready";

    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        builder.Configuration.AddOperatorFiles();
        builder.AddManagementPort();
        var json = builder.Configuration.GetValue("Logging:Json", false);
        builder.Services.AddSerilog((services, logger) =>
        {
            logger.ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext()
                .Enrich.With<ActivityEnricher>()
                .Enrich.WithProperty("Service", builder.Environment.ApplicationName)
                .MinimumLevel.Override("Microsoft.AspNetCore", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore", Serilog.Events.LogEventLevel.Warning)
                .MinimumLevel.Override("MassTransit", Serilog.Events.LogEventLevel.Information);
            if (json)
            {
                logger.WriteTo.Sink(new BatchedStdout(new RenderedCompactJsonFormatter()), BatchedStdout.Options);
            }
            else
            {
                // Text lines end at a newline, so one inside a value from a request would forge a line: escaped.
                var text = new MessageTemplateTextFormatter(
                    "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}: {Message:l} {Properties:j}{NewLine}{Exception}");
                logger.WriteTo.Sink(LoggerSinkConfiguration.Wrap(sink => new ControlCharacterEscaping(sink),
                    to => to.Sink(new BatchedStdout(text), BatchedStdout.Options)));
            }
        });
        CachingLoggerFactory.Decorate(builder.Services);

        builder.AddPipelineTracing();
        MeterExport.Start();
        builder.Services.AddHealthChecks();
        builder.Services.AddProblemDetails();
        builder.Services.AddApiAccess();
        builder.Services.AddForwardedClients();
        return builder;
    }

    /// <summary>
    /// /health/live (the process answers) on both ports; /health/ready (database and broker reachable: it names them)
    /// and /metrics on the management port only.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.UseForwardedClients();
        app.UseUnknownMethodRefusal(); // before the metrics, which label by method
        app.UseHttpMetrics();
        // Before authorization, so that the management port answers an API path 404, not 401.
        app.UseManagementPort();
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteHealth })
            .OnManagementPort(alsoPublic: true);
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = WriteHealth,
        }).OnManagementPort();
        app.MapMetrics().OnManagementPort();
        return app;
    }

    private static Task WriteHealth(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new
            {
                status = e.Value.Status.ToString(),
                description = e.Value.Description ?? e.Value.Exception?.Message,
            }),
        }));
    }
}
