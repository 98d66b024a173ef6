using Pipeline.Ingress;

var builder = WebApplication.CreateBuilder(args);
builder.AddIngressService();

var app = builder.Build();
await app.MapIngressServiceAsync();
await app.RunAsync();
