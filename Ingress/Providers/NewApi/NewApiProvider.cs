namespace Pipeline.Ingress.Providers.NewApi;

/// <summary>Registration and routes of the NewApi provider (POST /webhooks/new-api).</summary>
public static class NewApiProvider
{
    public static IServiceCollection AddNewApiProvider(this IServiceCollection services) => services;

    public static IEndpointRouteBuilder MapNewApiWebhooks(this IEndpointRouteBuilder endpoints) => endpoints;
}
