using Pipeline.Consumers.Credits;
using Pipeline.Hosting;
using Pipeline.Hosting.Bus;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddCredits();
builder.AddPipelineBus(bus => bus.AddCreditConsumers());

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapCredits();
await app.PrepareCreditsAsync();
await app.RunAsync();
