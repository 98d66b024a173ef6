namespace Pipeline.Ingress.Providers.LiveKit;

/// <summary>Registration and routes of the LiveKit provider (POST /webhooks/livekit).</summary>
public static class LiveKitProvider
{
    public static IServiceCollection AddLiveKitProvider(this IServiceCollection services) => services;

    public static IEndpointRouteBuilder MapLiveKitWebhooks(this IEndpointRouteBuilder endpoints) => endpoints;
}
