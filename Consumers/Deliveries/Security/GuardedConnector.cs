using System.Net;
using System.Net.Sockets;

namespace Pipeline.Consumers.Deliveries.Security;

/// <summary>A delivery refused before any packet was sent to the host, and why.</summary>
public sealed class DeliveryRefusedException(string message) : Exception(message);

/// <summary>
/// The <see cref="SocketsHttpHandler.ConnectCallback"/> of the delivery client: resolves the host itself, drops every
/// address <see cref="NetworkPolicy"/> refuses, and connects only to what is left. So a DNS answer that changed since
/// registration (or rebinding between two lookups) cannot reach a private address: the address checked is the address
/// used, and with none left the attempt fails before a socket is opened.
/// </summary>
public static class GuardedConnector
{
    public static async ValueTask<Stream> ConnectAsync(
        SocketsHttpConnectionContext context, bool allowPrivateNetworks, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = EndpointUrlPolicy.LiteralAddress(host) is { } literal ? [literal]
            : EndpointUrlPolicy.IsLocalhostName(host) ? [IPAddress.Loopback, IPAddress.IPv6Loopback]
            : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = new List<IPAddress>(addresses.Length);
        AddressRefusal? refusal = null;
        foreach (var address in addresses)
        {
            if (NetworkPolicy.Refusal(address, allowPrivateNetworks) is { } refused)
            {
                refusal ??= refused;
            }
            else
            {
                allowed.Add(address);
            }
        }

        if (allowed.Count == 0)
        {
            throw new DeliveryRefusedException(refusal is null
                ? $"{host} does not resolve."
                : $"Refused before connecting: {host} resolves to {refusal}.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync([.. allowed], context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
