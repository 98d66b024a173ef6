using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Pipeline.IntegrationTests.Infrastructure;

/// <summary>
/// Ports for hosts and receivers that bind them a moment later. Picked at random below the kernel's ephemeral range
/// (as infra/local does): a port the kernel hands out (port 0) is also a candidate for the local end of any outgoing
/// connection, and with many hosts starting at once one of those took a port before its host could bind it. Never
/// the same port twice in one test run.
/// </summary>
public static class FreePort
{
    private const int Lowest = 10_000;
    private static readonly int EphemeralLow = ReadEphemeralLow();
    private static readonly ConcurrentDictionary<int, byte> HandedOut = new();

    public static int Next()
    {
        for (var attempt = 0; attempt < 1_000; attempt++)
        {
            var port = Random.Shared.Next(Lowest, EphemeralLow);
            if (HandedOut.TryAdd(port, 0) && CanBind(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException($"No free TCP port found between {Lowest} and {EphemeralLow}.");
    }

    /// <summary>A free port that is not <paramref name="taken"/> (asked for but not yet bound by its owner).</summary>
    public static int Other(int taken)
    {
        var port = Next();
        return port != taken ? port : Next();
    }

    private static bool CanBind(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int ReadEphemeralLow()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        return File.Exists(range) && int.TryParse(File.ReadAllText(range).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0], out var low)
               && low > Lowest + 1_000
            ? low
            : 32_768;
    }
}
