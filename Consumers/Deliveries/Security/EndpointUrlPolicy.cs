using System.Net;

namespace Pipeline.Consumers.Deliveries.Security;

/// <summary>
/// The checks an endpoint URL passes when it is registered or changed: an absolute http(s) URL (HTTPS unless
/// <c>Deliveries:AllowHttp</c>), no credentials in it, and a host whose every address <see cref="NetworkPolicy"/>
/// allows. The same policy is applied again to the address actually used when connecting (<see cref="GuardedConnector"/>).
/// </summary>
public static class EndpointUrlPolicy
{
    public const int MaxUrlLength = 2048;

    /// <returns>null and the parsed URL when its form is acceptable, else why not.</returns>
    public static string? CheckForm(string? url, bool allowHttp, out Uri? uri)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(url))
        {
            return "url is required.";
        }

        if (url.Length > MaxUrlLength)
        {
            return $"url is longer than {MaxUrlLength} characters.";
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttps && parsed.Scheme != Uri.UriSchemeHttp))
        {
            return "url must be an absolute http:// or https:// URL.";
        }

        if (parsed.Scheme == Uri.UriSchemeHttp && !allowHttp)
        {
            return "url must use https (set Deliveries:AllowHttp=true to allow plain http).";
        }

        if (!string.IsNullOrEmpty(parsed.UserInfo))
        {
            return "url must not contain credentials; send them as an endpoint header instead.";
        }

        if (!string.IsNullOrEmpty(parsed.Fragment))
        {
            return "url must not have a #fragment.";
        }

        uri = parsed;
        return null;
    }

    /// <summary>Host names that mean this machine without asking DNS.</summary>
    public static bool IsLocalhostName(string host) =>
        host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || host.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase);

    /// <summary>The host of a URL as an address when it is a literal (brackets of an IPv6 literal removed).</summary>
    public static IPAddress? LiteralAddress(string host) =>
        IPAddress.TryParse(host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host, out var address) ? address : null;

    /// <summary>
    /// Resolves the host (nothing is sent to the host itself) and refuses it when any of its addresses is refused: at
    /// registration the strict rule, so a URL that could reach the inside never gets in.
    /// </summary>
    /// <returns>null when every address is allowed, else why not.</returns>
    public static async Task<string?> CheckAddressesAsync(
        Uri uri, bool allowPrivateNetworks, Func<string, CancellationToken, Task<IPAddress[]>> resolve, CancellationToken cancellationToken)
    {
        var host = uri.Host;
        IPAddress[] addresses;
        if (LiteralAddress(host) is { } literal)
        {
            addresses = [literal];
        }
        else if (IsLocalhostName(host))
        {
            addresses = [IPAddress.Loopback, IPAddress.IPv6Loopback];
        }
        else
        {
            try
            {
                addresses = await resolve(host, cancellationToken);
            }
            catch (System.Net.Sockets.SocketException)
            {
                addresses = [];
            }

            if (addresses.Length == 0)
            {
                return $"url host {host} does not resolve.";
            }
        }

        var refused = addresses.Select(a => NetworkPolicy.Refusal(a, allowPrivateNetworks)).FirstOrDefault(r => r is not null);
        return refused is null ? null : $"url host {host} resolves to {refused}.";
    }
}
