using System.Globalization;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;

namespace Pipeline.Hosting.Management;

/// <summary>
/// Where a host listens. The public addresses (<c>Urls</c>) take webhooks, APIs and /health/live; the management
/// addresses take /metrics, /health/ready and /health/live. They are <c>Management:Urls</c> when set, else the public
/// addresses with their port replaced by <c>Management:Port</c> (the same interfaces as the service). Read once at
/// start: a change needs a restart.
/// </summary>
public sealed record ListenerAddresses(IReadOnlyList<string> PublicUrls, IReadOnlyList<string> ManagementUrls, IReadOnlySet<int> ManagementPorts)
{
    public const string PortKey = "Management:Port";
    public const string UrlsKey = "Management:Urls";

    /// <summary>Kestrel's own default when <c>Urls</c> is not set.</summary>
    private const string DefaultPublicUrls = "http://localhost:5000";

    public static ListenerAddresses Resolve(IConfiguration configuration) =>
        Resolve(configuration[WebHostDefaults.ServerUrlsKey], configuration[PortKey], configuration[UrlsKey]);

    /// <exception cref="InvalidOperationException">The settings cannot give a management port apart from the public one; the message names the setting.</exception>
    public static ListenerAddresses Resolve(string? urls, string? managementPort, string? managementUrls)
    {
        var publicUrls = Split(urls) is { Count: > 0 } given ? given : [DefaultPublicUrls];
        var publicAddresses = publicUrls.Select(u => Parse(u, "Urls")).ToList();

        List<string> management;
        string setting;
        if (Split(managementUrls) is { Count: > 0 } explicitUrls)
        {
            management = explicitUrls;
            setting = UrlsKey;
        }
        else if (string.IsNullOrWhiteSpace(managementPort))
        {
            throw new InvalidOperationException(
                $"Set {PortKey} (or {UrlsKey}): /metrics and /health/ready are served only there, apart from the public port (Urls).");
        }
        else
        {
            if (!int.TryParse(managementPort.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            {
                throw new InvalidOperationException($"{PortKey} must be a port number from 1 to 65535, not '{managementPort}'.");
            }

            if (publicAddresses.Any(a => a.IsUnixPipe))
            {
                throw new InvalidOperationException($"{PortKey} cannot be placed beside a Unix socket in Urls: set {UrlsKey} instead.");
            }

            management = [.. publicAddresses.Select(a => $"{a.Scheme}://{a.Host}:{port}").Distinct(StringComparer.OrdinalIgnoreCase)];
            setting = PortKey;
        }

        var ports = new HashSet<int>();
        foreach (var address in management.Select(u => Parse(u, setting)))
        {
            // A request is told apart by the local port it arrived on, so the port must be known before binding.
            if (address.IsUnixPipe || address.Port == 0)
            {
                throw new InvalidOperationException($"{setting} needs a fixed TCP port, not '{address}'.");
            }

            ports.Add(address.Port);
        }

        if (publicAddresses.FirstOrDefault(a => ports.Contains(a.Port)) is { } clash)
        {
            throw new InvalidOperationException(
                $"{setting} must use a port of its own: {clash.Port} is also the public port (Urls), where webhooks arrive.");
        }

        return new ListenerAddresses(publicUrls, management, ports);
    }

    private static List<string> Split(string? urls) =>
        [.. (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    private static BindingAddress Parse(string url, string setting)
    {
        try
        {
            return BindingAddress.Parse(url);
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException($"{setting}: '{url}' is not an address to listen on ({ex.Message}).", ex);
        }
    }
}
