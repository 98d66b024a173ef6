using Pipeline.Consumers.Deliveries;
using Pipeline.Hosting;
using Pipeline.Hosting.Bus;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddDeliveries();
builder.AddPipelineBus(bus => bus.AddDeliveryConsumers());

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapDeliveries();
await app.PrepareDeliveriesAsync();
await app.RunAsync();
