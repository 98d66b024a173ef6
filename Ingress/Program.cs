using Pipeline.Hosting;
using Pipeline.Hosting.Bus;
using Pipeline.Ingress;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddIngress();
builder.AddPipelineBus(acceptsWithoutBroker: true);

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapIngress();
await app.PrepareIngressAsync();
await app.RunAsync();
