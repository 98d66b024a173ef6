using MassTransit;
using Microsoft.EntityFrameworkCore;
using Pipeline.Hosting;
using Pipeline.Hosting.Batching;
using Pipeline.Hosting.Retention;
using Pipeline.Hosting.Settings;
using Pipeline.Hosting.Telemetry;
using Pipeline.Persistence;
using Pipeline.Persistence.Rooms;

namespace Pipeline.Consumers.Rooms;

/// <summary>The Rooms service on one screen: its tables, its consumers, its API.</summary>
public static class RoomsExtensions
{
    public static WebApplicationBuilder AddRooms(this WebApplicationBuilder builder)
    {
        builder.Services.AddPipelineDbContext<RoomsDbContext, SqliteRoomsDbContext, PostgreSqlRoomsDbContext, SqlServerRoomsDbContext>(
            builder.Configuration, "Rooms", RoomsDbContext.MigrationsHistoryTable);
        builder.Services.AddHealthChecks().AddDbContextCheck<RoomsDbContext>("rooms-database", tags: [ServiceDefaults.ReadyTag]);
        builder.Services.AddOptions<RoomsOptions>().BindConfiguration(RoomsOptions.Section)
            .ValidateDataAnnotations().ValidateOnStart().KeepLastValidOnReload();
        builder.Services.AddPurgeJob<RoomsDbContext, Room, RoomsOptions>(o => o.FinishedRetention, RoomRetention.PurgeBatchAsync, RoomRetention.Related);
        builder.Services.AddGroupCommitOptions(LiveKitEventConsumer.Name, RoomEventWriter.GroupCommitSection);
        builder.Services.AddSingleton<RoomEventWriter>();
        builder.Services.AddInboxRetention<RoomsDbContext>();
        builder.Services.AddTableRowCounts<RoomsDbContext>();
        builder.Services.AddPeriodicMeasure<RoomsDbContext>("active rooms", async (db, ct) =>
        {
            var active = db.Rooms.AsNoTracking().Where(r => r.Status == RoomStatuses.Active);
            PipelineMetrics.ActiveRooms.Set(await active.CountAsync(ct));
            PipelineMetrics.ActiveParticipants.Set(await active.SumAsync(r => r.CurrentParticipants, ct));
        });
        return builder;
    }

    public static void AddRoomConsumers(this IBusRegistrationConfigurator bus) =>
        bus.AddConsumer<LiveKitEventConsumer, LiveKitEventConsumerDefinition>();

    public static WebApplication MapRooms(this WebApplication app)
    {
        app.MapRoomsApi();
        return app;
    }

    public static Task PrepareRoomsAsync(this WebApplication app) =>
        app.Services.PrepareDatabaseAsync<RoomsDbContext>(app.Lifetime.ApplicationStopping);
}
