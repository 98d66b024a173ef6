using MassTransit;
using Pipeline.Hosting;
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
