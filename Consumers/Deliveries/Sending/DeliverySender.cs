using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using Microsoft.Extensions.Options;
using Pipeline.Consumers.Deliveries.Security;
using Pipeline.Consumers.Deliveries.Signing;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Sending;

/// <summary>An endpoint as its lane sends to it: the row as last loaded, with its URL and headers parsed once.</summary>
public sealed record EndpointTarget(WebhookEndpoint Endpoint, Uri Url, IReadOnlyList<KeyValuePair<string, string>> Headers);

/// <summary>What happened on the wire: a status code and the start of the body, or why there was no response.</summary>
/// <param name="Outcome">One of <see cref="SendOutcomes"/>, for the attempts metric.</param>
public sealed record SendResult(
    DateTime StartedAt, TimeSpan Duration, int? StatusCode, string? ResponseBody, string? Error, TimeSpan? RetryAfter, string Outcome);

public static class SendOutcomes
{
    public const string Success = "success";

    /// <summary>A response other than 2xx.</summary>
    public const string HttpError = "http_error";

    public const string Timeout = "timeout";

    /// <summary>Refused by the address guard before connecting.</summary>
    public const string Refused = "refused";

    /// <summary>No response: DNS, connection refused or reset, TLS.</summary>
    public const string ConnectionError = "connection_error";

    /// <summary>Not sent: a fault of this process (a stored secret that does not decode, say), recorded like any failure.</summary>
    public const string InternalError = "internal_error";
}

/// <summary>
/// One HTTP POST of a delivery through the named client <see cref="ClientName"/> (no redirects, the connect guard,
/// no cookies or proxy): the signed envelope, a per-attempt timeout, and at most 4 KiB of the response read.
/// </summary>
public sealed class DeliverySender(IHttpClientFactory clients, IOptionsMonitor<DeliveriesOptions> options)
{
    public const string ClientName = "deliveries";
    public const int ResponseBodyLimit = DeliveryAttempt.MaxResponseBodyChars;

    public static readonly string UserAgent = "Pipeline-Webhooks/" + Version();

    public async Task<SendResult> SendAsync(EndpointTarget target, ClaimedDelivery delivery, CancellationToken cancellationToken)
    {
        var startedAt = DateTime.UtcNow;
        var clock = Stopwatch.StartNew();
        var body = Encoding.UTF8.GetBytes(delivery.Payload);
        using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        foreach (var (name, value) in target.Headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        var secrets = WebhookSigner.ActiveSecrets(target.Endpoint, startedAt);
        var timestamp = new DateTimeOffset(startedAt).ToUnixTimeSeconds();
        foreach (var (name, value) in WebhookSigner.Headers(
                     target.Endpoint.Scheme, secrets, delivery.EventId, delivery.EventType, delivery.Id, timestamp, body))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        var timeout = options.CurrentValue.Timeout;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            var (text, unread) = await ReadCappedAsync(response.Content, deadline.Token, cancellationToken);
            var status = (int)response.StatusCode;
            var success = RetryPolicy.Classify(status) == AttemptVerdict.Delivered;
            return new SendResult(startedAt, clock.Elapsed, status, text,
                success ? unread : $"HTTP {status} {response.ReasonPhrase}".TrimEnd() + (unread is null ? "" : $"; {unread}"),
                RetryPolicy.RetryAfter(response.StatusCode, response.Headers.RetryAfter, DateTimeOffset.UtcNow),
                success ? SendOutcomes.Success : SendOutcomes.HttpError);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new SendResult(startedAt, clock.Elapsed, null, null, $"Timed out after {timeout.TotalSeconds:0.###} s.", null, SendOutcomes.Timeout);
        }
        catch (HttpRequestException ex)
        {
            var refused = RefusalOf(ex);
            return new SendResult(startedAt, clock.Elapsed, null, null, refused?.Message ?? Describe(ex), null,
                refused is null ? SendOutcomes.ConnectionError : SendOutcomes.Refused);
        }
        catch (IOException ex)
        {
            return new SendResult(startedAt, clock.Elapsed, null, null, Describe(ex), null, SendOutcomes.ConnectionError);
        }
    }

    /// <summary>A HEAD request through the same guarded client (seed 004's reachability check): the status code, or why none came.</summary>
    public async Task<(int? StatusCode, string? Error, TimeSpan Duration)> ProbeAsync(Uri url, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.CurrentValue.Timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, url);
            request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
            using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
            return ((int)response.StatusCode, null, clock.Elapsed);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"Timed out after {options.CurrentValue.Timeout.TotalSeconds:0.###} s.", clock.Elapsed);
        }
        catch (HttpRequestException ex)
        {
            return (null, RefusalOf(ex)?.Message ?? Describe(ex), clock.Elapsed);
        }
    }

    /// <summary>Configures the named client: what makes it safe to point at URLs that operators typed in.</summary>
    public static SocketsHttpHandler CreateHandler(IOptionsMonitor<DeliveriesOptions> options) => new()
    {
        AllowAutoRedirect = false,
        UseCookies = false,
        // A proxy would make the connect guard see the proxy's address instead of the endpoint's.
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        MaxResponseHeadersLength = 64,
        ConnectCallback = (context, ct) => GuardedConnector.ConnectAsync(context, options.CurrentValue.AllowPrivateNetworks, ct),
    };

    /// <summary>
    /// At most <see cref="ResponseBodyLimit"/> bytes: a receiver streaming a huge body costs nothing more. The status
    /// has arrived by then and is what the attempt records: a body cut short (the connection reset or closed early) or
    /// too slow for the timeout keeps what was read, and <c>Unread</c> says why the rest is missing.
    /// </summary>
    private static async Task<(string? Text, string? Unread)> ReadCappedAsync(
        HttpContent content, CancellationToken deadline, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ResponseBodyLimit);
        var read = 0;
        string? unread = null;
        try
        {
            await using var stream = await content.ReadAsStreamAsync(deadline);
            while (read < ResponseBodyLimit)
            {
                var n = await stream.ReadAsync(buffer.AsMemory(read, ResponseBodyLimit - read), deadline);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            unread = "response body not read in full: timed out";
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            unread = Clean($"response body not read in full: {ex.Message}");
        }

        try
        {
            return (read == 0 ? null : Clean(Encoding.UTF8.GetString(buffer, 0, read)), unread);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static DeliveryRefusedException? RefusalOf(Exception ex)
    {
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is DeliveryRefusedException refused)
            {
                return refused;
            }
        }

        return null;
    }

    private static string Describe(Exception ex) =>
        Clean(ex.InnerException is { } inner ? $"{ex.Message} ({inner.Message})" : ex.Message);

    // PostgreSQL text cannot hold NUL characters, which a receiver may well send.
    private static string Clean(string text) => text.Contains('\0') ? text.Replace("\0", "", StringComparison.Ordinal) : text;

    private static string Version()
    {
        var version = typeof(DeliverySender).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "1.0.0";
        var plus = version.IndexOf('+');
        return plus > 0 ? version[..plus] : version;
    }
}
