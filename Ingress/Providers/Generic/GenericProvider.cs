namespace Pipeline.Ingress.Providers.Generic;

/// <summary>Registration and routes of the Generic provider (POST /webhooks/{name}).</summary>
public static class GenericProvider
{
    public static IServiceCollection AddGenericProvider(this IServiceCollection services) => services;

    public static IEndpointRouteBuilder MapGenericWebhooks(this IEndpointRouteBuilder endpoints) => endpoints;
}
