using Pipeline.Consumers.Sandboxes;
using Pipeline.Hosting;
using Pipeline.Hosting.Bus;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddSandboxes();
builder.AddPipelineBus(bus => bus.AddSandboxConsumers());

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapSandboxes();
await app.PrepareSandboxesAsync();
await app.RunAsync();
