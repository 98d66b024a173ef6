using MassTransit;
using Microsoft.EntityFrameworkCore;
using Pipeline.Hosting;
using Pipeline.Hosting.Batching;
using Pipeline.Hosting.Outbox;
using Pipeline.Hosting.Retention;
using Pipeline.Hosting.Settings;
using Pipeline.Hosting.Telemetry;
using Pipeline.Persistence;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>The Sandboxes service on one screen: its tables and outbox, its consumer, the stale check, its read API.</summary>
public static class SandboxesExtensions
{
    public static WebApplicationBuilder AddSandboxes(this WebApplicationBuilder builder)
    {
        builder.Services.AddPipelineDbContext<SandboxesDbContext, SqliteSandboxesDbContext, PostgreSqlSandboxesDbContext, SqlServerSandboxesDbContext>(
            builder.Configuration, "Sandboxes", SandboxesDbContext.MigrationsHistoryTable);
        builder.Services.AddHealthChecks().AddDbContextCheck<SandboxesDbContext>("sandboxes-database", tags: [ServiceDefaults.ReadyTag]);
        builder.Services.AddOptions<SandboxesOptions>().BindConfiguration(SandboxesOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart().KeepLastValidOnReload();
        builder.Services.AddPurgeJob<SandboxesDbContext, Sandbox, SandboxesOptions>(o => o.KilledRetention, SandboxRetention.PurgeBatchAsync);
        // Stale sandboxes are announced through this service's own outbox, in the transaction that marks them.
        builder.Services.AddPipelineOutbox<SandboxesDbContext>();
        builder.Services.AddHostedService<StaleSandboxDetector>();
        builder.Services.AddGroupCommitOptions(SandboxLifecycleConsumer.Name, SandboxLifecycleWriter.GroupCommitSection, GroupCommitOptions.ConsumerLinger);
        builder.Services.AddSingleton<SandboxLifecycleWriter>();
        builder.Services.AddInboxRetention<SandboxesDbContext>();
        builder.Services.AddTableRowCounts<SandboxesDbContext>();
        builder.Services.AddPeriodicMeasure<SandboxesDbContext>("active sandboxes", async (db, ct) =>
        {
            var active = await db.Sandboxes.AsNoTracking().Where(s => s.State != SandboxStates.Killed)
                .GroupBy(s => s.State).Select(g => new { State = g.Key, Count = g.Count() }).ToListAsync(ct);
            foreach (var state in new[] { SandboxStates.Running, SandboxStates.Paused })
            {
                PipelineMetrics.ActiveSandboxes.WithLabels(state).Set(active.FirstOrDefault(a => a.State == state)?.Count ?? 0);
            }
        });
        return builder;
    }

    public static void AddSandboxConsumers(this IBusRegistrationConfigurator bus) =>
        bus.AddConsumer<SandboxLifecycleConsumer, SandboxLifecycleConsumerDefinition>();

    public static WebApplication MapSandboxes(this WebApplication app)
    {
        app.MapSandboxesApi();
        return app;
    }

    public static Task PrepareSandboxesAsync(this WebApplication app) =>
        app.Services.PrepareDatabaseAsync<SandboxesDbContext>(app.Lifetime.ApplicationStopping);
}
