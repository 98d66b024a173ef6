using System.Net;
using System.Net.Sockets;

namespace Pipeline.Consumers.Deliveries.Security;

/// <summary>
/// Which addresses a delivery may connect to, with no I/O. Loopback, private, shared (CGNAT), link-local, unique-local
/// and reserved ranges are refused unless <c>Deliveries:AllowPrivateNetworks</c> is set; cloud metadata, multicast,
/// broadcast and unspecified addresses are refused always. IPv6 forms that carry an IPv4 address (mapped, NAT64,
/// 6to4) are judged by that address.
/// </summary>
public static class NetworkPolicy
{
    private static readonly (IPNetwork Network, string Kind)[] AlwaysRefused =
    [
        (IPNetwork.Parse("169.254.169.254/32"), "cloud metadata"),
        (IPNetwork.Parse("169.254.170.2/32"), "cloud metadata"),
        (IPNetwork.Parse("100.100.100.200/32"), "cloud metadata"),
        (IPNetwork.Parse("fd00:ec2::254/128"), "cloud metadata"),
        (IPNetwork.Parse("0.0.0.0/8"), "unspecified"),
        (IPNetwork.Parse("224.0.0.0/4"), "multicast"),
        (IPNetwork.Parse("240.0.0.0/4"), "reserved"),
        (IPNetwork.Parse("::/128"), "unspecified"),
        (IPNetwork.Parse("ff00::/8"), "multicast"),
    ];

    private static readonly (IPNetwork Network, string Kind)[] Private =
    [
        (IPNetwork.Parse("127.0.0.0/8"), "loopback"),
        (IPNetwork.Parse("10.0.0.0/8"), "private"),
        (IPNetwork.Parse("172.16.0.0/12"), "private"),
        (IPNetwork.Parse("192.168.0.0/16"), "private"),
        (IPNetwork.Parse("100.64.0.0/10"), "shared (CGNAT)"),
        (IPNetwork.Parse("169.254.0.0/16"), "link-local"),
        (IPNetwork.Parse("192.0.0.0/24"), "reserved"),
        (IPNetwork.Parse("192.0.2.0/24"), "reserved"),
        (IPNetwork.Parse("198.18.0.0/15"), "reserved"),
        (IPNetwork.Parse("198.51.100.0/24"), "reserved"),
        (IPNetwork.Parse("203.0.113.0/24"), "reserved"),
        (IPNetwork.Parse("::1/128"), "loopback"),
        (IPNetwork.Parse("fe80::/10"), "link-local"),
        (IPNetwork.Parse("fc00::/7"), "unique-local"),
        (IPNetwork.Parse("fec0::/10"), "site-local"),
        (IPNetwork.Parse("100::/64"), "reserved"),
        (IPNetwork.Parse("2001::/32"), "reserved"),
        (IPNetwork.Parse("2001:db8::/32"), "reserved"),
        (IPNetwork.Parse("::/96"), "reserved"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    /// <returns>null when a delivery may connect to <paramref name="address"/>, else the kind of address it is.</returns>
    public static AddressRefusal? Refusal(IPAddress address, bool allowPrivateNetworks)
    {
        if (address.Equals(IPAddress.Broadcast))
        {
            return new AddressRefusal(address, "broadcast", Private: false);
        }

        if (EmbeddedIPv4(address) is { } v4)
        {
            return Refusal(v4, allowPrivateNetworks);
        }

        foreach (var (network, kind) in AlwaysRefused)
        {
            if (network.Contains(address))
            {
                return new AddressRefusal(address, kind, Private: false);
            }
        }

        if (allowPrivateNetworks)
        {
            return null;
        }

        foreach (var (network, kind) in Private)
        {
            if (network.Contains(address))
            {
                return new AddressRefusal(address, kind, Private: true);
            }
        }

        return null;
    }

    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address))
        {
            return new IPAddress(bytes.AsSpan(12, 4));
        }

        return SixToFour.Contains(address) ? new IPAddress(bytes.AsSpan(2, 4)) : null;
    }
}

/// <param name="Private">Allowed by <c>Deliveries:AllowPrivateNetworks</c>; otherwise refused always.</param>
public sealed record AddressRefusal(IPAddress Address, string Kind, bool Private)
{
    public override string ToString() =>
        $"a {Kind} address ({Address}), " + (Private
            ? "refused unless Deliveries:AllowPrivateNetworks=true"
            : "always refused");
}
