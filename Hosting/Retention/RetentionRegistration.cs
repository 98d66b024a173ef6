using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Settings;
using Pipeline.Hosting.Telemetry;
using Pipeline.Persistence.Inbox;

namespace Pipeline.Hosting.Retention;

public static class RetentionRegistration
{
    /// <summary>
    /// Deletes <typeparamref name="TEntity"/> rows of <typeparamref name="TContext"/> once they are older than what
    /// <paramref name="retention"/> reads from <typeparamref name="TOptions"/>, batch by batch with
    /// <paramref name="purge"/>. Every job of a process runs in one <see cref="RetentionWorker"/>.
    /// </summary>
    /// <param name="related">What else a batch deletes with the rows, for the log.</param>
    public static IServiceCollection AddPurgeJob<TContext, TEntity, TOptions>(
        this IServiceCollection services, Func<TOptions, TimeSpan> retention, PurgeBatch<TContext> purge, string? related = null)
        where TContext : DbContext
        where TEntity : class
        where TOptions : class
    {
        if (!services.Any(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(RetentionWorker)))
        {
            services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section)
                .ValidateDataAnnotations().ValidateOnStart().KeepLastValidOnReload();
            services.AddHostedService<RetentionWorker>();
        }

        services.AddSingleton<IPurgeJob>(new PurgeJob<TContext, TEntity, TOptions>(retention, purge, related));
        return services;
    }

    /// <summary>Deletes <typeparamref name="TContext"/>'s inbox rows after <c>Inbox:Retention</c>.</summary>
    public static IServiceCollection AddInboxRetention<TContext>(this IServiceCollection services) where TContext : DbContext
    {
        if (!services.Any(d => d.ServiceType == typeof(IValidateOptions<InboxOptions>)))
        {
            services.AddOptions<InboxOptions>().BindConfiguration(InboxOptions.Section).ValidateOnStart().KeepLastValidOnReload();
            services.AddSingleton<IValidateOptions<InboxOptions>, InboxOptionsValidator>();
        }

        return services.AddPurgeJob<TContext, InboxMessage, InboxOptions>(o => o.Retention, async (db, cutoff, batchSize, ct) =>
            await db.Set<InboxMessage>().Where(m => m.ProcessedAt < cutoff).OrderBy(m => m.ProcessedAt).Take(batchSize).ExecuteDeleteAsync(ct));
    }

    /// <summary><c>pipeline_table_rows{table}</c> for every table of <typeparamref name="TContext"/>, every <c>Telemetry:GaugeRefreshInterval</c>.</summary>
    public static IServiceCollection AddTableRowCounts<TContext>(this IServiceCollection services) where TContext : DbContext =>
        services.AddPeriodicMeasure<TContext>($"{typeof(TContext).Name} table rows", TableRowCounts.MeasureAsync);
}
