using Pipeline.Consumers.Sandboxes;
using Pipeline.Hosting;
using Pipeline.Hosting.Bus;
using Pipeline.Ingress;
using Pipeline.Standalone;

// Everything in one process: SQLite files and MassTransit's in-memory transport. For trying it out only:
// messages held by the in-memory transport are lost if the process dies.
var builder = WebApplication.CreateBuilder(args);
var sample = StandaloneSample.EnsureSecret(builder.Configuration);
builder.AddServiceDefaults();
builder.AddIngress();
builder.AddSandboxes();
builder.AddPipelineBus(bus => bus.AddSandboxConsumers());

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapIngress();
app.MapSandboxes();
await app.PrepareIngressAsync();
await app.PrepareSandboxesAsync();
app.Lifetime.ApplicationStarted.Register(() => sample.PrintWelcome(app));
await app.RunAsync();
