using System.Text.Json;
using Pipeline.Consumers.Deliveries.Events;
using Pipeline.Consumers.Deliveries.Security;
using Pipeline.Consumers.Deliveries.Signing;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Api;

/// <summary>POST /api/endpoints. Only <see cref="Url"/> and <see cref="EventTypes"/> are required.</summary>
public sealed record CreateEndpointRequest(
    string? Url, List<string>? EventTypes, string? Description, Dictionary<string, string>? Headers, string? Scheme, int? RateLimitPerSecond);

/// <summary>PATCH /api/endpoints/{id}: what is given replaces the old value; what is left out stays. A rate of 0 removes the limit.</summary>
public sealed record PatchEndpointRequest(
    string? Url, List<string>? EventTypes, string? Description, Dictionary<string, string>? Headers, string? Scheme, int? RateLimitPerSecond);

/// <summary>The form checks of endpoint requests, with no I/O (the URL's addresses are checked by the API afterwards).</summary>
public static class EndpointRequests
{
    public const int MaxDescriptionLength = 500;
    public const int MaxHeaders = 20;
    public const int MaxHeaderValueLength = 1000;
    public const int MaxHeaderNameLength = 100;
    public const int MaxRateLimitPerSecond = 10_000;

    /// <summary>Headers an endpoint may not set: the signer's, and the ones HTTP itself owns.</summary>
    public static readonly IReadOnlySet<string> ReservedHeaders = new HashSet<string>(
        WebhookSigner.Reserved.Concat(
        [
            "Content-Type", "Content-Length", "Content-Encoding", "Host", "User-Agent", "Transfer-Encoding", "Connection",
            "Keep-Alive", "Upgrade", "Expect", "TE", "Trailer", "Proxy-Authorization", "Proxy-Connection", "Cookie",
        ]), StringComparer.OrdinalIgnoreCase);

    public static List<string> Validate(CreateEndpointRequest request, bool allowHttp, out Uri? url)
    {
        var errors = new List<string>();
        if (EndpointUrlPolicy.CheckForm(request.Url, allowHttp, out url) is { } urlError)
        {
            errors.Add(urlError);
        }

        AddIfInvalid(errors, EventSubscriptions.Validate(request.EventTypes));
        errors.AddRange(CheckOptional(request.Description, request.Headers, request.Scheme, request.RateLimitPerSecond, allowZeroRate: false));
        return errors;
    }

    public static List<string> Validate(PatchEndpointRequest request, bool allowHttp, out Uri? url)
    {
        var errors = new List<string>();
        url = null;
        if (request.Url is not null && EndpointUrlPolicy.CheckForm(request.Url, allowHttp, out url) is { } urlError)
        {
            errors.Add(urlError);
        }

        if (request.EventTypes is not null)
        {
            AddIfInvalid(errors, EventSubscriptions.Validate(request.EventTypes));
        }

        errors.AddRange(CheckOptional(request.Description, request.Headers, request.Scheme, request.RateLimitPerSecond, allowZeroRate: true));
        return errors;
    }

    public static string Serialize(IReadOnlyList<string> eventTypes) => JsonSerializer.Serialize(eventTypes.Distinct(StringComparer.Ordinal));

    public static string? Serialize(IReadOnlyDictionary<string, string>? headers) =>
        headers is null || headers.Count == 0 ? null : JsonSerializer.Serialize(headers);

    private static IEnumerable<string> CheckOptional(string? description, Dictionary<string, string>? headers, string? scheme, int? rate, bool allowZeroRate)
    {
        if (description is { Length: > MaxDescriptionLength })
        {
            yield return $"description is longer than {MaxDescriptionLength} characters.";
        }

        if (scheme is not null && !SigningSchemes.All.Contains(scheme))
        {
            yield return $"scheme must be one of {string.Join(", ", SigningSchemes.All)}.";
        }

        if (rate is { } r && (r < (allowZeroRate ? 0 : 1) || r > MaxRateLimitPerSecond))
        {
            yield return $"rateLimitPerSecond must be between 1 and {MaxRateLimitPerSecond}" + (allowZeroRate ? " (or 0 to remove the limit)." : ".");
        }

        if (headers is not null && CheckHeaders(headers) is { } headerError)
        {
            yield return headerError;
        }
    }

    private static string? CheckHeaders(Dictionary<string, string> headers)
    {
        if (headers.Count > MaxHeaders)
        {
            return $"headers may have at most {MaxHeaders} entries.";
        }

        foreach (var (name, value) in headers)
        {
            if (name.Length == 0 || name.Length > MaxHeaderNameLength || !name.All(IsTokenChar))
            {
                return $"header name '{(name.Length > MaxHeaderNameLength ? name[..MaxHeaderNameLength] + "…" : name)}' is not a valid HTTP header name of at most {MaxHeaderNameLength} characters.";
            }

            if (ReservedHeaders.Contains(name))
            {
                return $"header {name} is set by the sender and cannot be configured.";
            }

            if (value is null || value.Length > MaxHeaderValueLength || value.Any(c => c is '\r' or '\n' or '\0'))
            {
                return $"header {name} must have a value of at most {MaxHeaderValueLength} characters without line breaks.";
            }
        }

        return Serialize(headers)!.Length > WebhookEndpoint.MaxHeadersLength
            ? $"headers may take at most {WebhookEndpoint.MaxHeadersLength} characters together (as JSON)."
            : null;
    }

    // RFC 9110 token characters.
    private static bool IsTokenChar(char c) =>
        c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~';

    private static void AddIfInvalid(List<string> errors, string? error)
    {
        if (error is not null)
        {
            errors.Add(error);
        }
    }
}
