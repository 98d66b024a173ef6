using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Pipeline.Hosting.Management;

/// <summary>Marks an endpoint as served on the management port; <paramref name="AlsoPublic"/>: on the public port too.</summary>
public sealed record ManagementEndpoint(bool AlsoPublic);

/// <summary>
/// Keeps operational endpoints off the listener where webhooks arrive. Requests are told apart by the local port they
/// arrived on, which a client cannot choose as it can a Host header.
/// </summary>
public static class ManagementPort
{
    /// <summary>Listens on the public and the management addresses (<see cref="ListenerAddresses"/>), or stops start-up naming the setting.</summary>
    public static WebApplicationBuilder AddManagementPort(this WebApplicationBuilder builder)
    {
        var addresses = ListenerAddresses.Resolve(builder.Configuration);
        builder.WebHost.UseUrls([.. addresses.PublicUrls, .. addresses.ManagementUrls]);
        builder.Services.AddSingleton(addresses);
        return builder;
    }

    /// <summary>
    /// On the management port only endpoints marked <see cref="ManagementEndpoint"/> answer; on the public port only those
    /// that are not, or are marked <see cref="ManagementEndpoint.AlsoPublic"/>. Anything else: 404, as if it were not there.
    /// </summary>
    public static WebApplication UseManagementPort(this WebApplication app)
    {
        var managementPorts = app.Services.GetRequiredService<ListenerAddresses>().ManagementPorts;
        app.Use((context, next) =>
        {
            var marked = context.GetEndpoint()?.Metadata.GetMetadata<ManagementEndpoint>();
            var served = managementPorts.Contains(context.Connection.LocalPort) ? marked is not null : marked is null or { AlsoPublic: true };
            if (served)
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        return app;
    }

    public static TBuilder OnManagementPort<TBuilder>(this TBuilder builder, bool alsoPublic = false) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ManagementEndpoint(alsoPublic));
}
