using Pipeline.Consumers.Rooms;
using Pipeline.Hosting;
using Pipeline.Hosting.Bus;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddRooms();
builder.AddPipelineBus(bus => bus.AddRoomConsumers());

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapRooms();
await app.PrepareRoomsAsync();
await app.RunAsync();
