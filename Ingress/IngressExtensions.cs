using Microsoft.Extensions.DependencyInjection.Extensions;
using Pipeline.Hosting;
using Pipeline.Hosting.Batching;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.DeadLetters;
using Pipeline.Hosting.Outbox;
using Pipeline.Hosting.Retention;
using Pipeline.Hosting.Settings;
using Pipeline.Ingress.Admin;
using Pipeline.Ingress.Dashboard;
using Pipeline.Ingress.Providers.E2b;
using Pipeline.Ingress.Providers.Generic;
using Pipeline.Ingress.Providers.LiveKit;
using Pipeline.Ingress.Providers.NewApi;
using Pipeline.Ingress.Receipts;
using Pipeline.Ingress.Webhooks;
using Pipeline.Persistence;
using Pipeline.Persistence.Ingress;

namespace Pipeline.Ingress;

/// <summary>The whole Ingress service on one screen: what it registers and what it answers.</summary>
public static class IngressExtensions
{
    public static WebApplicationBuilder AddIngress(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // A refused insert is how ReceiptWriter finds a duplicate delivery, a normal event. A real failure still ends
        // the request with a 500 that is logged with its exception.
        services.AddPipelineDbContext<IngressDbContext, SqliteIngressDbContext, PostgreSqlIngressDbContext, SqlServerIngressDbContext>(
            builder.Configuration, "Ingress", IngressDbContext.MigrationsHistoryTable, PersistenceRegistration.ExpectedConflictsAtDebug);
        services.AddHealthChecks().AddDbContextCheck<IngressDbContext>("ingress-database", tags: [ServiceDefaults.ReadyTag]);

        services.AddOptions<IngressOptions>().BindConfiguration(IngressOptions.Section).ValidateDataAnnotations().ValidateOnStart().KeepLastValidOnReload();
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart().KeepLastValidOnReload();
        services.AddSingleton<WebhookRateLimiter>();
        services.AddSingleton<RecentlyRecorded>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<WebhookTraffic>();
        services.AddSingleton<WebhookPipeline>();
        services.AddE2bProvider();
        services.AddLiveKitProvider();
        services.AddNewApiProvider();
        services.AddGenericProvider();

        services.AddPipelineOutbox<IngressDbContext>();
        services.AddPurgeJob<IngressDbContext, Receipt, IngressOptions>(o => o.ReceiptRetention, ReceiptRetention.PurgeBatchAsync);
        services.AddTableRowCounts<IngressDbContext>();
        services.AddDeadLetterGauge(); // pipeline_dead_letters{queue}: one service of the deployment counts them
        services.AddGroupCommitOptions(ReceiptWriter.GroupCommitName, ReceiptWriter.GroupCommitSection, ReceiptWriter.Linger);
        services.AddSingleton<ReceiptWriter>();
        return builder;
    }

    /// <summary>The Ingress service as its own process runs it: service defaults, Ingress, and a bus that lets it
    /// accept while the broker is away. The benchmarks host it the same way.</summary>
    public static WebApplicationBuilder AddIngressService(this WebApplicationBuilder builder)
    {
        builder.AddServiceDefaults();
        builder.AddIngress();
        builder.AddPipelineBus(acceptsWithoutBroker: true);
        return builder;
    }

    /// <summary>Health endpoints and Ingress's endpoints, then its database brought up to date.</summary>
    public static async Task<WebApplication> MapIngressServiceAsync(this WebApplication app)
    {
        app.MapDefaultEndpoints();
        app.MapIngress();
        await app.PrepareIngressAsync();
        return app;
    }

    public static WebApplication MapIngress(this WebApplication app)
    {
        app.MapWebhookProviders(); // e2b, livekit, new-api: each registered IWebhookProvider's routes
        app.MapGenericWebhooks(); // POST /webhooks/{name} for configured sources
        app.MapGet("/api/webhooks/health", () => Results.Ok(new { success = true, message = "Webhook service is healthy" }));
        // Seed 004's receiver: its senders' health checks read this one (Unix seconds, as Python's time.time()).
        app.MapGet("/webhooks/health", () => Results.Ok(new { status = "healthy", timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 }));
        app.MapAdminApi();
        app.MapDashboard(); // GET /dashboard and the admin endpoints only it reads
        return app;
    }

    public static Task PrepareIngressAsync(this WebApplication app) =>
        app.Services.PrepareDatabaseAsync<IngressDbContext>(app.Lifetime.ApplicationStopping);
}
