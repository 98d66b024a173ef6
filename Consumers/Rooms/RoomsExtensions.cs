using MassTransit;

namespace Pipeline.Consumers.Rooms;

/// <summary>The Rooms service on one screen: its tables, its consumers, its API.</summary>
public static class RoomsExtensions
{
    public static WebApplicationBuilder AddRooms(this WebApplicationBuilder builder) => builder;

    public static void AddRoomConsumers(this IBusRegistrationConfigurator bus)
    {
    }

    public static WebApplication MapRooms(this WebApplication app) => app;

    public static Task PrepareRoomsAsync(this WebApplication app) => Task.CompletedTask;
}
