using MassTransit;
using Microsoft.Extensions.Options;
using Pipeline.Consumers.Deliveries.Api;
using Pipeline.Consumers.Deliveries.FanOut;
using Pipeline.Consumers.Deliveries.Ledger;
using Pipeline.Consumers.Deliveries.Sending;
using Pipeline.Hosting;
using Pipeline.Hosting.Batching;
using Pipeline.Hosting.Retention;
using Pipeline.Hosting.Settings;
using Pipeline.Hosting.Telemetry;
using Pipeline.Persistence;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries;

/// <summary>
/// The Deliveries service on one screen: its tables, the fan-out consumer, the delivery worker and its HTTP client,
/// the endpoints API.
/// </summary>
public static partial class DeliveriesExtensions
{
    public static WebApplicationBuilder AddDeliveries(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddPipelineDbContext<DeliveriesDbContext, SqliteDeliveriesDbContext, PostgreSqlDeliveriesDbContext, SqlServerDeliveriesDbContext>(
            builder.Configuration, "Deliveries", DeliveriesDbContext.MigrationsHistoryTable);
        services.AddHealthChecks().AddDbContextCheck<DeliveriesDbContext>("deliveries-database", tags: [ServiceDefaults.ReadyTag]);

        services.AddOptions<DeliveriesOptions>().BindConfiguration(DeliveriesOptions.Section).ValidateDataAnnotations().ValidateOnStart()
            .KeepLastValidOnReload(o => $"private networks {(o.AllowPrivateNetworks ? "allowed" : "refused")}, http {(o.AllowHttp ? "allowed" : "refused")}");
        services.AddInboxRetention<DeliveriesDbContext>();
        services.AddTableRowCounts<DeliveriesDbContext>();

        // The sender's own client: no redirects, the connect guard, no proxy or cookies. Its default logging is off:
        // the worker logs each attempt itself, without header values.
        services.AddHttpClient(DeliverySender.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => DeliverySender.CreateHandler(sp.GetRequiredService<IOptionsMonitor<DeliveriesOptions>>()))
            .RemoveAllLoggers();

        services.AddSingleton<DeliverySignal>();
        services.AddSingleton<DeliveryHandoff>();
        services.AddSingleton<DeliverySender>();
        services.AddScoped<DeliveryStore>();
        services.AddScoped<DeliveryFanOut>();
        services.AddGroupCommitOptions(EventFanOutConsumer.Name, FanOutWriter.GroupCommitSection);
        services.AddSingleton<FanOutWriter>();
        services.AddScoped<DeliveryStats>();
        services.AddScoped<DeliveryRecovery>();
        services.AddHostedService<DeliveryWorker>();
        services.AddPeriodicMeasure<DeliveryStats>("deliveries", MeasureAsync);
        return builder;
    }

    public static void AddDeliveryConsumers(this IBusRegistrationConfigurator bus) =>
        bus.AddConsumer<EventFanOutConsumer, EventFanOutConsumerDefinition>();

    public static WebApplication MapDeliveries(this WebApplication app)
    {
        app.MapEndpointsApi();
        app.MapDeliveriesApi();
        app.MapSeedWebhooksApi();
        return app;
    }

    /// <summary>The gauges that only the database knows: queue size, active and failing endpoints, the ledger.</summary>
    private static async Task MeasureAsync(DeliveryStats stats, CancellationToken cancellationToken)
    {
        var (active, failing) = await stats.EndpointCountsAsync(cancellationToken);
        var ledgers = DeliveryLedger.PerEndpoint(await stats.LedgerCountsAsync(null, cancellationToken));
        var total = DeliveryLedger.Sum(ledgers.Values);
        DeliveriesMetrics.EndpointsActive.Set(active);
        DeliveriesMetrics.EndpointsFailing.Set(failing);
        DeliveriesMetrics.QueueSize.Set(total.Pending);
        DeliveriesMetrics.Ledger.WithLabels("matched").Set(total.Matched);
        DeliveriesMetrics.Ledger.WithLabels("delivered").Set(total.Delivered);
        DeliveriesMetrics.Ledger.WithLabels("pending").Set(total.Pending);
        DeliveriesMetrics.Ledger.WithLabels("failed").Set(total.Failed);
        DeliveriesMetrics.Ledger.WithLabels("skipped").Set(total.Skipped);
        DeliveriesMetrics.UnbalancedEndpoints.Set(ledgers.Values.Count(l => !l.Balanced));
    }

    public static async Task PrepareDeliveriesAsync(this WebApplication app)
    {
        await app.Services.PrepareDatabaseAsync<DeliveriesDbContext>(app.Lifetime.ApplicationStopping);
        var options = app.Services.GetRequiredService<IOptionsMonitor<DeliveriesOptions>>().CurrentValue;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Pipeline.Deliveries");
        if (options.AllowPrivateNetworks)
        {
            LogPrivateNetworksAllowed(logger);
        }

        if (options.AllowHttp)
        {
            LogHttpAllowed(logger);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deliveries:AllowPrivateNetworks is true: endpoints may point at loopback and private addresses (for local runs only)")]
    private static partial void LogPrivateNetworksAllowed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deliveries:AllowHttp is true: endpoints may use plain http:// (for local runs only)")]
    private static partial void LogHttpAllowed(ILogger logger);
}
