using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Pipeline.IntegrationTests.Infrastructure;

/// <summary>
/// A loopback TCP forwarder between a service and the broker. <see cref="Cut"/> drops every connection and refuses
/// new ones, as a network partition would; <see cref="Restore"/> lets traffic through again on the same port.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly IPEndPoint _target;
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private TcpListener? _listener;
    private CancellationTokenSource _cts = new();
    private Task _acceptLoop = Task.CompletedTask;

    public TcpProxy(int targetPort)
    {
        _target = new IPEndPoint(IPAddress.Loopback, targetPort);
        Port = FreePort.Next();
        Restore();
    }

    public int Port { get; }

    public void Restore()
    {
        if (_listener is not null)
        {
            return;
        }

        _cts = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, Port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _acceptLoop = AcceptAsync(_listener, _cts.Token);
    }

    public void Cut()
    {
        _cts.Cancel();
        _listener?.Stop();
        _listener = null;
        foreach (var socket in _open.Keys)
        {
            Close(socket);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Cut();
        await _acceptLoop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(cancellationToken);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                return;
            }

            _ = ForwardAsync(client, cancellationToken);
        }
    }

    private async Task ForwardAsync(Socket client, CancellationToken cancellationToken)
    {
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _open[client] = 0;
        _open[upstream] = 0;
        try
        {
            await upstream.ConnectAsync(_target, cancellationToken);
            await Task.WhenAny(PumpAsync(client, upstream, cancellationToken), PumpAsync(upstream, client, cancellationToken));
        }
        catch (Exception)
        {
            // A cut or a closed peer ends the pair; both sides are closed below.
        }
        finally
        {
            Close(client);
            Close(upstream);
        }
    }

    private static async Task PumpAsync(Socket from, Socket to, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var read = await from.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                return;
            }

            await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, cancellationToken);
        }
    }

    private void Close(Socket socket)
    {
        _open.TryRemove(socket, out _);
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception)
        {
            // already closed
        }

        socket.Dispose();
    }
}
