using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Settings;
using Pipeline.Ingress.Receipts;
using Pipeline.Ingress.Webhooks;

namespace Pipeline.Ingress.Providers.Generic;

/// <summary>
/// Registration and route of the generic provider: every source configured under <c>Sources:{name}</c> is answered at
/// <c>POST /webhooks/{name}</c> with its scheme (see <see cref="SourceSchemes"/>) and published as
/// <see cref="Messages.Webhooks.WebhookReceivedV1"/>.
/// </summary>
public static class GenericProvider
{
    /// <summary>The metric label of requests to a name no source has: one series, whatever names are tried.</summary>
    public const string UnknownSourceLabel = "unknown-source";

    public static IServiceCollection AddGenericProvider(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<GenericSourcesOptions>()
            .Configure<IConfiguration>((options, configuration) => options.Bind(configuration))
            .ValidateOnStart()
            .KeepLastValidOnReload(o => $"{o.Sources.Count} source(s), {o.Sources.Count(s => s.Value.Secrets.Count > 0)} with secrets");
        services.AddSingleton<IOptionsChangeTokenSource<GenericSourcesOptions>>(sp =>
            new ConfigurationChangeTokenSource<GenericSourcesOptions>(sp.GetRequiredService<IConfiguration>()));
        services.AddSingleton<IValidateOptions<GenericSourcesOptions>, GenericSourcesValidator>();
        services.AddSingleton<GenericSourceResolver>();
        return services;
    }

    public static IEndpointRouteBuilder MapGenericWebhooks(this IEndpointRouteBuilder endpoints)
    {
        // The built-in providers' literal routes (/webhooks/e2b, …) take precedence over this pattern.
        endpoints.MapPost("/webhooks/{name}", (Delegate)HandleAsync);
        return endpoints;
    }

    private static Task<IResult> HandleAsync(
        HttpContext http, string name, GenericSourceResolver sources, WebhookPipeline pipeline, ReceiptWriter writer, ILoggerFactory loggers)
    {
        if (sources.Resolve(name.ToLowerInvariant()) is { } source)
        {
            return pipeline.HandleAsync(http, source, writer);
        }

        IngressMetrics.Received.WithLabels(UnknownSourceLabel).Inc();
        return Task.FromResult(WebhookResponses.Reject(loggers.CreateLogger("Pipeline.Ingress.Webhooks"), UnknownSourceLabel,
            StatusCodes.Status404NotFound, GenericReasons.UnknownSource, "No webhook source is configured under this name."));
    }
}
