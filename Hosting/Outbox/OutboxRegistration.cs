using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Pipeline.Hosting.Retention;
using Pipeline.Hosting.Settings;
using Pipeline.Hosting.Telemetry;
using Pipeline.Persistence.Outbox;

namespace Pipeline.Hosting.Outbox;

public static class OutboxRegistration
{
    /// <summary>Publishes what <typeparamref name="TContext"/>'s outbox table holds (one dispatcher per context).</summary>
    public static IServiceCollection AddPipelineOutbox<TContext>(this IServiceCollection services)
        where TContext : DbContext, IOutboxDbContext
    {
        services.AddOptions<OutboxOptions>().BindConfiguration(OutboxOptions.Section).ValidateDataAnnotations().ValidateOnStart().KeepLastValidOnReload();
        services.TryAddSingleton<OutboxSignal<TContext>>();
        services.TryAddScoped<OutboxStore<TContext>>();
        services.AddHostedService<OutboxDispatcher<TContext>>();
        services.AddPurgeJob<TContext, OutboxMessage, OutboxOptions>(o => o.RetainSent, async (db, cutoff, batchSize, ct) =>
            await new OutboxStore<TContext>(db).DeleteSentBeforeAsync(cutoff, batchSize, ct));
        return services;
    }

    /// <summary>
    /// Adds a message to be published once the surrounding SaveChanges commits, with the current trace so the
    /// publish and the consumer continue it.
    /// </summary>
    public static OutboxMessage Enqueue(this DbSet<OutboxMessage> outbox, object message, Guid? receiptId, DateTime now)
    {
        var row = Row(message, receiptId, now);
        outbox.Add(row);
        return row;
    }

    /// <summary>The outbox row of <paramref name="message"/>, carrying the current trace, for a caller that saves it later.</summary>
    public static OutboxMessage Row(object message, Guid? receiptId, DateTime now) => new()
    {
        Id = Guid.CreateVersion7(),
        ReceiptId = receiptId,
        MessageType = OutboxMessageTypes.NameOf(message.GetType()),
        Body = OutboxMessageTypes.Serialize(message),
        Message = message,
        CreatedAt = now,
        TraceParent = PipelineTelemetry.CurrentTraceParent(),
    };
}
