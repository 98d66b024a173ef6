using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Hosting;
using Pipeline.Hosting.Batching;
using Pipeline.Hosting.Outbox;
using Pipeline.Hosting.Retention;
using Pipeline.Hosting.Settings;
using Pipeline.Persistence;
using Pipeline.Persistence.Credits;

namespace Pipeline.Consumers.Credits;

/// <summary>The Credits service on one screen: its tables and outbox, its consumers, its API.</summary>
public static class CreditsExtensions
{
    public static WebApplicationBuilder AddCredits(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Lost races (a concurrent deduction on the same account, the same request id committed first) are expected
        // under load and handled by the consumer, which logs the outcome.
        services.AddPipelineDbContext<CreditsDbContext, SqliteCreditsDbContext, PostgreSqlCreditsDbContext, SqlServerCreditsDbContext>(
            builder.Configuration, "Credits", CreditsDbContext.MigrationsHistoryTable, PersistenceRegistration.ExpectedConflictsAtDebug);
        services.AddHealthChecks().AddDbContextCheck<CreditsDbContext>("credits-database", tags: [ServiceDefaults.ReadyTag]);

        services.AddOptions<CreditsOptions>().BindConfiguration(CreditsOptions.Section).ValidateOnStart()
            .KeepLastValidOnReload(o => $"{o.AdminApiKeys.Count} admin key(s), low mark {o.LowBalanceThreshold}, negative balances {(o.AllowNegative ? "allowed" : "not allowed")}");
        services.AddSingleton<CreditsOptionsSetup>();
        services.AddSingleton<IPostConfigureOptions<CreditsOptions>>(sp => sp.GetRequiredService<CreditsOptionsSetup>());
        services.AddSingleton<IValidateOptions<CreditsOptions>>(sp => sp.GetRequiredService<CreditsOptionsSetup>());

        // Balance alerts leave through this service's own outbox, in the transaction of the deduction that caused them.
        services.AddPipelineOutbox<CreditsDbContext>();
        // The ledger and the accounts are kept for good; the inbox and the per-message log are purged.
        services.AddInboxRetention<CreditsDbContext>();
        services.AddPurgeJob<CreditsDbContext, CreditEventLog, CreditsOptions>(o => o.WebhookLogRetention, async (db, cutoff, batchSize, ct) =>
            await db.EventLog.Where(l => l.ProcessedAt < cutoff).OrderBy(l => l.ProcessedAt).Take(batchSize).ExecuteDeleteAsync(ct));
        services.AddTableRowCounts<CreditsDbContext>();
        services.AddScoped<TopUpService>();
        services.AddGroupCommitOptions(UsageRecordedConsumer.Name, UsageWriter.GroupCommitSection, GroupCommitOptions.ConsumerLinger);
        services.AddSingleton<UsageWriter>();
        return builder;
    }

    public static void AddCreditConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<UsageRecordedConsumer, UsageRecordedConsumerDefinition>();
        bus.AddConsumer<CreditAlertsConsumer, CreditAlertsConsumerDefinition>();
        bus.AddConsumer<GatewayNotificationConsumer, GatewayNotificationConsumerDefinition>();
    }

    public static WebApplication MapCredits(this WebApplication app)
    {
        app.MapCreditsApi();
        return app;
    }

    public static Task PrepareCreditsAsync(this WebApplication app) =>
        app.Services.PrepareDatabaseAsync<CreditsDbContext>(app.Lifetime.ApplicationStopping);
}
