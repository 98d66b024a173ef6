using Pipeline.Consumers.Credits;
using Pipeline.Consumers.Deliveries;
using Pipeline.Consumers.Rooms;
using Pipeline.Consumers.Sandboxes;
using Pipeline.Hosting;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.Management;
using Pipeline.Ingress;
using Pipeline.Standalone;

// Everything in one process: SQLite files and MassTransit's in-memory transport. For trying it out only:
// messages held by the in-memory transport are lost if the process dies.
var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
var sample = StandaloneSample.EnsureSecrets(builder.Configuration);
builder.AddIngress();
builder.AddSandboxes();
builder.AddCredits();
builder.AddRooms();
builder.AddDeliveries();
builder.AddPipelineBus(bus =>
{
    bus.AddSandboxConsumers();
    bus.AddCreditConsumers();
    bus.AddRoomConsumers();
    bus.AddDeliveryConsumers();
});

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapIngress();
app.MapSandboxes();
app.MapCredits();
app.MapRooms();
app.MapDeliveries();
await app.PrepareIngressAsync();
await app.PrepareSandboxesAsync();
await app.PrepareCreditsAsync();
await app.PrepareRoomsAsync();
await app.PrepareDeliveriesAsync();
app.Lifetime.ApplicationStarted.Register(() => sample.PrintWelcome(app.Services.GetRequiredService<ListenerAddresses>()));
await app.RunAsync();
