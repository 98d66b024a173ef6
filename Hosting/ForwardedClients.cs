using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using IPNetwork = System.Net.IPNetwork;

namespace Pipeline.Hosting;

/// <summary>
/// <c>ForwardedHeaders</c>: the reverse proxies or load balancers in front of this host whose <c>X-Forwarded-For</c>
/// names the client. Empty by default, and then the header is ignored: a client cannot pick the address its failed
/// attempts count against.
/// </summary>
public sealed class ForwardedClientOptions
{
    public const string Section = "ForwardedHeaders";

    /// <summary>Addresses of the proxies, e.g. <c>10.0.0.5</c>.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks the proxies are in, in CIDR form, e.g. <c>10.0.0.0/8</c>.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    /// <summary>How many proxies in a row are taken off the end of <c>X-Forwarded-For</c>.</summary>
    public int ForwardLimit { get; set; } = 1;

    public bool Enabled => KnownProxies.Count > 0 || KnownNetworks.Count > 0;

    /// <summary>What is wrong with the settings, or null.</summary>
    public string? Problem()
    {
        if (KnownProxies.FirstOrDefault(p => !IPAddress.TryParse(p, out _)) is { } proxy)
        {
            return $"{Section}:KnownProxies has '{proxy}', which is not an IP address.";
        }

        if (KnownNetworks.FirstOrDefault(n => !IPNetwork.TryParse(n, out _)) is { } network)
        {
            return $"{Section}:KnownNetworks has '{network}', which is not a network in CIDR form (such as 10.0.0.0/8).";
        }

        return ForwardLimit is < 1 or > 10 ? $"{Section}:ForwardLimit must be between 1 and 10 (it is {ForwardLimit})." : null;
    }
}

/// <summary>
/// Every per-address limit (failed admin and API keys, failed webhook verifications) counts the client's address. Behind
/// a proxy that is the proxy's, the same for every client, so one guesser would hold off everyone: with the proxies
/// configured, the address is taken from their <c>X-Forwarded-For</c> instead (ASP.NET Core's forwarded-headers
/// middleware, which believes the header only from those addresses).
/// </summary>
public static partial class ForwardedClients
{
    public static IServiceCollection AddForwardedClients(this IServiceCollection services)
    {
        services.AddOptions<ForwardedClientOptions>().BindConfiguration(ForwardedClientOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ForwardedClientOptions>, Validator>();
        return services;
    }

    private sealed class Validator : IValidateOptions<ForwardedClientOptions>
    {
        public ValidateOptionsResult Validate(string? name, ForwardedClientOptions options) =>
            options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }

    /// <summary>First in the request pipeline, so every limit and log sees the client's address.</summary>
    public static WebApplication UseForwardedClients(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<IOptions<ForwardedClientOptions>>().Value;
        if (!settings.Enabled)
        {
            return app;
        }

        var options = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor, ForwardLimit = settings.ForwardLimit };
        // The defaults trust loopback; only what is configured is trusted.
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        foreach (var proxy in settings.KnownProxies)
        {
            options.KnownProxies.Add(IPAddress.Parse(proxy));
        }

        foreach (var network in settings.KnownNetworks)
        {
            options.KnownIPNetworks.Add(IPNetwork.Parse(network));
        }

        LogTrusted(app.Logger, string.Join(", ", settings.KnownProxies.Concat(settings.KnownNetworks)), settings.ForwardLimit);
        app.UseForwardedHeaders(options);
        return app;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Client addresses come from X-Forwarded-For when the request comes from {Proxies} (up to {Limit} proxies deep)")]
    private static partial void LogTrusted(ILogger logger, string proxies, int limit);
}
