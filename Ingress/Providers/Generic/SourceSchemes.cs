using Microsoft.Net.Http.Headers;
using Pipeline.Ingress.Webhooks;

namespace Pipeline.Ingress.Providers.Generic;

/// <summary>The schemes a source can be configured with, and what each accepts and keeps.</summary>
public static class SourceSchemes
{
    public const string StandardWebhooks = "standard-webhooks";
    public const string HmacSha256 = "hmac-sha256";
    public const string GitHub = "github";
    public const string Stripe = "stripe";
    public const string Slack = "slack";
    public const string Token = "token";

    public static readonly IReadOnlyList<string> All = [StandardWebhooks, HmacSha256, GitHub, Stripe, Slack, Token];

    private static readonly string[] CommonHeaders = ["content-type", "user-agent"];

    /// <summary>The scheme's canonical name for a configured value (any case), or null when there is no such scheme.</summary>
    public static string? Find(string? value) =>
        value is null ? null : All.FirstOrDefault(s => s.Equals(value.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether <c>Sources:{name}:Tolerance</c> means anything for the scheme.</summary>
    public static bool HasTimestamp(string scheme) => scheme is StandardWebhooks or HmacSha256 or Stripe or Slack;

    /// <summary>Ids, timestamps, event names, content type and user agent: never a signature, token or credential.</summary>
    public static IReadOnlyList<string> KeptHeaders(string scheme) => scheme switch
    {
        StandardWebhooks => [.. CommonHeaders, "webhook-id", "webhook-timestamp", "svix-id", "svix-timestamp"],
        HmacSha256 => [.. CommonHeaders, "x-webhook-event", "x-webhook-timestamp", "x-webhook-delivery", "x-webhook-test"],
        GitHub => [.. CommonHeaders, "x-github-delivery", "x-github-event", "x-github-hook-id",
            "x-github-hook-installation-target-id", "x-github-hook-installation-target-type"],
        Slack => [.. CommonHeaders, "x-slack-request-timestamp", "x-slack-retry-num", "x-slack-retry-reason"],
        _ => CommonHeaders,
    };

    /// <summary>
    /// JSON (or no Content-Type) everywhere; also form posts for Slack (slash commands, interactivity) and GitHub (its
    /// "application/x-www-form-urlencoded" content type option); also text/plain for token sources, because LangGraph
    /// sets no Content-Type and its HTTP client then sends text/plain.
    /// </summary>
    public static Func<string?, bool> AcceptsContentType(string scheme) => scheme switch
    {
        GitHub or Slack => contentType => WebhookBody.IsJson(contentType) || IsMediaType(contentType, "application/x-www-form-urlencoded"),
        Token => contentType => WebhookBody.IsJson(contentType) || IsMediaType(contentType, "text/plain"),
        _ => WebhookBody.IsJson,
    };

    public static bool IsMediaType(string? contentType, string mediaType) =>
        contentType is not null
        && MediaTypeHeaderValue.TryParse(contentType, out var media)
        && media.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase);
}
