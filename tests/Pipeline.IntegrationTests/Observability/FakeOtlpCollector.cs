using System.Collections.Concurrent;
using System.Net;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Observability;

/// <summary>
/// Stands in for an OpenTelemetry collector on 127.0.0.1 (OTLP over http/protobuf): answers every export with an
/// empty success and keeps what was posted, so a test can look for a service name or a trace id in the bytes.
/// </summary>
public sealed class FakeOtlpCollector : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public FakeOtlpCollector()
    {
        Port = FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public int Port { get; }
    public Uri Endpoint => new($"http://127.0.0.1:{Port}");
    public ConcurrentQueue<(string Path, string? ContentType, byte[] Body)> Exports { get; } = new();

    /// <summary>Whether every one of <paramref name="contained"/> was in some export to <paramref name="path"/>.</summary>
    public bool Received(string path, params byte[][] contained) =>
        contained.All(c => Exports.Any(e => e.Path == path && e.Body.AsSpan().IndexOf(c) >= 0));

    public string Describe() =>
        $"OTLP exports received: {string.Join(", ", Exports.Select(e => $"{e.Path} ({e.ContentType}, {e.Body.Length} bytes)"))}";

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            Exports.Enqueue((context.Request.Url!.AbsolutePath, context.Request.ContentType, body.ToArray()));
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
