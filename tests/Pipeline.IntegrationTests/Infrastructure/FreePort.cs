using System.Net;
using System.Net.Sockets;

namespace Pipeline.IntegrationTests.Infrastructure;

public static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>A free port that is not <paramref name="taken"/> (asked for but not yet bound by its owner).</summary>
    public static int Other(int taken)
    {
        while (true)
        {
            if (Next() is var port && port != taken)
            {
                return port;
            }
        }
    }
}
