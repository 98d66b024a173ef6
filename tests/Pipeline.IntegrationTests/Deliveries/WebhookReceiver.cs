using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Deliveries;

/// <summary>
/// A webhook receiver on 127.0.0.1: keeps every request it gets (headers and body, as received) and answers each with
/// what <see cref="Respond"/> says for it (default 200), each request on its own task; one that <see cref="Hangs"/>
/// never answers (until disposed), as a receiver stuck behind a dead backend would.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private int _count;

    public WebhookReceiver()
    {
        Port = FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    public sealed record Request(int Number, string Path, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset At)
    {
        public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : "";
    }

    public int Port { get; }

    public string Url => $"http://127.0.0.1:{Port}/hooks";

    public ConcurrentQueue<Request> Received { get; } = new();

    /// <summary>The status code for the n-th request (1, 2, …).</summary>
    public Func<int, int> Respond { get; set; } = _ => 200;

    /// <summary>Read each request, then never answer it.</summary>
    public bool Hangs { get; init; }

    public Task<IReadOnlyList<Request>> WaitForAsync(int count, Func<string> diagnostics, TimeSpan? timeout = null) =>
        Eventually.WaitAsync(() => Task.FromResult<IReadOnlyList<Request>>(Received.ToList()), r => r.Count >= count,
            timeout ?? TimeSpan.FromSeconds(60), $"{count} request(s) at the receiver on port {Port}", diagnostics);

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

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        try
        {
            var number = Interlocked.Increment(ref _count);
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.AllKeys.Where(k => k is not null)
                .ToDictionary(k => k!.ToLowerInvariant(), k => context.Request.Headers[k]!);
            Received.Enqueue(new Request(number, context.Request.Url!.AbsolutePath, headers, body, DateTimeOffset.UtcNow));
            if (Hangs)
            {
                try
                {
                    await Task.Delay(Timeout.Infinite, _stop.Token);
                }
                finally
                {
                    // Reset the connection: a listener that closes would otherwise answer the request with a 200.
                    context.Response.Abort();
                }
            }

            context.Response.StatusCode = Respond(number);
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes($$"""{"received":{{number}}}"""));
            context.Response.Close();
        }
        catch (Exception) when (_stop.IsCancellationRequested || !_listener.IsListening)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }
}
