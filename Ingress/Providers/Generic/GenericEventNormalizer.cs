using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.WebUtilities;
using Pipeline.Ingress.Webhooks;
using Pipeline.Messages.Webhooks;

namespace Pipeline.Ingress.Providers.Generic;

/// <summary>
/// Turns a verified delivery into one <see cref="WebhookReceivedV1"/>: the body kept as text, the event type and
/// dedup key read where the scheme puts them. A source whose format is json (every scheme's default but token's) takes
/// JSON only, or the form posts of Slack and GitHub; fields are read when the body is a JSON object, and a body
/// without an id is keyed by its SHA-256. An id is only ever taken from what the signature covers (the body, or the
/// Standard Webhooks id), so a replayed body cannot pass for a new event under a new id.
/// </summary>
public static class GenericEventNormalizer
{
    public static NormalizationResult<WebhookReceivedV1> Normalize(
        GenericSource source, ReadOnlySpan<byte> body, IHeaderDictionary headers, Guid receiptId, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(headers);
        if (!Utf8.IsValid(body))
        {
            return NormalizationResult<WebhookReceivedV1>.Malformed(GenericReasons.NotUtf8);
        }

        var contentType = Signatures.TryGetHeader(headers, "Content-Type", out var type) ? type : null;
        if (source.Format == SourceFormats.Json && !IsForm(source.Scheme, contentType) && !IsJson(body))
        {
            return NormalizationResult<WebhookReceivedV1>.Malformed(GenericReasons.NotJson);
        }

        var (eventType, id) = ReadEvent(source.Scheme, body, headers, contentType);
        if (body.Contains((byte)0) || eventType?.Contains('\0', StringComparison.Ordinal) == true || id?.Contains('\0', StringComparison.Ordinal) == true)
        {
            return NormalizationResult<WebhookReceivedV1>.Malformed(GenericReasons.NulCharacter);
        }

        var dedupKey = DedupKeys.For(id, body);
        var message = new WebhookReceivedV1
        {
            Source = source.Name,
            EventType = eventType,
            EventId = dedupKey,
            Headers = WebhookResponses.KeptHeaderValues(headers, source.KeptHeaders),
            ContentType = contentType,
            Body = Encoding.UTF8.GetString(body),
            ReceivedAt = receivedAt,
            ReceiptId = receiptId,
        };
        return NormalizationResult<WebhookReceivedV1>.Ok(message, dedupKey);
    }

    /// <summary>Slack's Events API checks a new request URL with <c>{"type":"url_verification","challenge":…}</c> and expects the challenge back.</summary>
    public static string? SlackChallenge(ReadOnlySpan<byte> body)
    {
        using var document = TryParseObject(body);
        return document is not null
               && String(document.RootElement, "type") == "url_verification"
               && String(document.RootElement, "challenge") is { } challenge
            ? challenge
            : null;
    }

    // Slack's slash commands and interactivity, and GitHub's form content type, post forms: their own formats, not JSON.
    private static bool IsForm(string scheme, string? contentType) =>
        scheme is SourceSchemes.Slack or SourceSchemes.GitHub && SourceSchemes.IsMediaType(contentType, "application/x-www-form-urlencoded");

    // One JSON value of any kind, as the seed's receiver's request.json() takes.
    private static bool IsJson(ReadOnlySpan<byte> body) => WireJson.FirstToken(WireJson.WithoutBom(body), wholeValue: true) != JsonTokenType.None;

    private static (string? EventType, string? Id) ReadEvent(string scheme, ReadOnlySpan<byte> body, IHeaderDictionary headers, string? contentType)
    {
        if (scheme == SourceSchemes.Slack && SourceSchemes.IsMediaType(contentType, "application/x-www-form-urlencoded"))
        {
            return (SlackFormEventType(body), null);
        }

        using var document = scheme == SourceSchemes.GitHub ? null : TryParseObject(body);
        var root = document?.RootElement;
        return scheme switch
        {
            SourceSchemes.StandardWebhooks => (String(root, "type"), StandardWebhooksId(headers)),
            SourceSchemes.HmacSha256 => (Header(headers, HmacSha256Verifier.EventHeader) ?? String(root, "event_type"), String(root, "id")),
            // X-GitHub-Delivery is not signed (GitHub signs the body alone, with no timestamp): keyed on it, one captured
            // body sent again under new delivery ids would be recorded again. It is kept with the headers.
            SourceSchemes.GitHub => (Header(headers, GitHubSignatureVerifier.EventHeader), null),
            SourceSchemes.Stripe => (String(root, "type"), String(root, "id")),
            SourceSchemes.Slack => (String(Object(root, "event"), "type") ?? String(root, "type"), String(root, "event_id")),
            SourceSchemes.Token => (String(root, "status"), String(root, "run_id")),
            _ => (null, null),
        };
    }

    // Interactivity posts payload=<json with a type>; slash commands post command=/name.
    private static string? SlackFormEventType(ReadOnlySpan<byte> body)
    {
        var form = QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
        if (form.TryGetValue("payload", out var payload) && payload.Count > 0 && payload[0] is { } json)
        {
            using var document = TryParseObject(Encoding.UTF8.GetBytes(json));
            return String(document?.RootElement, "type");
        }

        return form.TryGetValue("command", out var command) && !string.IsNullOrWhiteSpace(command[0]) ? command[0] : null;
    }

    private static JsonDocument? TryParseObject(ReadOnlySpan<byte> body)
    {
        var json = WireJson.WithoutBom(body);
        if (json.IsEmpty)
        {
            return null;
        }

        try
        {
            var reader = new Utf8JsonReader(json);
            var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind == JsonValueKind.Object && !reader.Read())
            {
                return document;
            }

            document.Dispose();
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static JsonElement? Object(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object
            ? value
            : null;

    // A string, or a number as written; anything else (and "") counts as absent.
    private static string? String(JsonElement? parent, string name)
    {
        if (parent is not { ValueKind: JsonValueKind.Object } p || !p.TryGetProperty(name, out var value))
        {
            return null;
        }

        try
        {
            return value.ValueKind switch
            {
                JsonValueKind.String when value.GetString() is { Length: > 0 } text => text,
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            };
        }
        catch (InvalidOperationException)
        {
            return null; // an escaped lone surrogate: valid JSON, not text
        }
    }

    // The id of the header family the verifier used: webhook-* when its signature was sent, else svix-*.
    private static string? StandardWebhooksId(IHeaderDictionary headers) =>
        Header(headers, StandardWebhooksVerifier.Webhook.Signature) is not null
            ? Header(headers, StandardWebhooksVerifier.Webhook.Id)
            : Header(headers, StandardWebhooksVerifier.Svix.Id);

    private static string? Header(IHeaderDictionary headers, string name) =>
        Signatures.TryGetHeader(headers, name, out var value) ? value : null;
}
