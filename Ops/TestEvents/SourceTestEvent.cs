using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.Json;

namespace Pipeline.Ops.TestEvents;

/// <summary>
/// A sample delivery to a configured source (<c>Sources:{name}</c>, answered at <c>POST /webhooks/{name}</c>), signed
/// as its scheme's sender signs: Standard Webhooks, seed 004's hmac-sha256, GitHub, Stripe, Slack, or a token.
/// </summary>
public static class SourceTestEvent
{
    public const string StandardWebhooks = "standard-webhooks";
    public const string HmacSha256 = "hmac-sha256";
    public const string GitHub = "github";
    public const string Stripe = "stripe";
    public const string Slack = "slack";
    public const string Token = "token";

    /// <summary>The scheme names Ingress accepts in <c>Sources:{name}:Scheme</c>.</summary>
    public static readonly string[] Schemes = [StandardWebhooks, HmacSha256, GitHub, Stripe, Slack, Token];

    /// <summary>The environment variable Ingress reads a source's first secret from.</summary>
    public static string SecretVariable(string source) => $"Sources__{source}__Secrets__0";

    public static string SchemeVariable(string source) => $"Sources__{source}__Scheme";

    /// <param name="body">The body to sign and send; null for the scheme's own small sample.</param>
    /// <param name="tokenHeader">Token scheme only: the header that carries the token; null for <c>?token=</c>.</param>
    public static TestRequest Build(string source, string scheme, string secret, string? body, string? tokenHeader, DateTimeOffset now)
    {
        body ??= SampleBody(scheme, now);
        var path = "webhooks/" + Uri.EscapeDataString(source);
        var timestamp = TestSigning.UnixSeconds(now);
        var messageId = "msg_" + TestSigning.RandomId(12);
        return scheme switch
        {
            StandardWebhooks => new TestRequest(path, body, "application/json",
            [
                ("webhook-id", messageId),
                ("webhook-timestamp", timestamp),
                ("webhook-signature", StandardWebhooksSignature(secret, messageId, timestamp, body)),
            ]),
            HmacSha256 => new TestRequest(path, body, "application/json",
            [
                ("X-Webhook-Signature", "sha256=" + TestSigning.HexHmacSha256(secret, body)),
                ("X-Webhook-Timestamp", timestamp),
                ("X-Webhook-Event", "test.event"),
            ]),
            GitHub => new TestRequest(path, body, "application/json",
            [
                ("X-Hub-Signature-256", "sha256=" + TestSigning.HexHmacSha256(secret, body)),
                ("X-GitHub-Event", "ping"),
                ("X-GitHub-Delivery", Guid.NewGuid().ToString()),
            ]),
            Stripe => new TestRequest(path, body, "application/json",
                [("Stripe-Signature", $"t={timestamp},v1={TestSigning.HexHmacSha256(secret, $"{timestamp}.{body}")}")]),
            Slack => new TestRequest(path, body, "application/json",
            [
                ("X-Slack-Request-Timestamp", timestamp),
                ("X-Slack-Signature", "v0=" + TestSigning.HexHmacSha256(secret, $"v0:{timestamp}:{body}")),
            ]),
            Token => tokenHeader is null
                ? new TestRequest($"{path}?token={Uri.EscapeDataString(secret)}", body, "application/json", [])
                : new TestRequest(path, body, "application/json", [(tokenHeader, secret)]),
            _ => throw new ArgumentException($"Unknown scheme '{scheme}'.", nameof(scheme)),
        };
    }

    /// <summary>
    /// The HMAC key of a standard-webhooks secret: the Base64 after <c>whsec_</c> (the prefix is optional, padding too),
    /// as Ingress and the npm <c>standardwebhooks</c> library decode it.
    /// </summary>
    public static bool TryDecodeStandardWebhooksSecret(string secret, [NotNullWhen(true)] out byte[]? key)
    {
        var text = secret.Trim();
        if (text.StartsWith("whsec_", StringComparison.Ordinal))
        {
            text = text["whsec_".Length..];
        }

        text = text.TrimEnd('=');
        var padded = text.PadRight((text.Length + 3) / 4 * 4, '=');
        var buffer = new byte[padded.Length / 4 * 3];
        key = text.Length > 0 && Convert.TryFromBase64String(padded, buffer, out var written) && written > 0 ? buffer[..written] : null;
        return key is not null;
    }

    private static string StandardWebhooksSignature(string secret, string id, string timestamp, string body)
    {
        if (!TryDecodeStandardWebhooksSecret(secret, out var key))
        {
            throw new ArgumentException("A standard-webhooks secret is whsec_ followed by Base64.", nameof(secret));
        }

        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, TestSigning.Utf8($"{id}.{timestamp}.{body}")));
    }

    // Small samples in each sender's shape, with the id and event type where the normalizer reads them.
    private static string GitHubPing(int hookId, DateTimeOffset now) => JsonSerializer.Serialize(new
    {
        zen = "Keep it logically awesome.",
        hook_id = hookId,
        hook = new { type = "Repository", id = hookId, active = true, updated_at = now.UtcDateTime.ToString("O") },
    });

    private static string SampleBody(string scheme, DateTimeOffset now) => scheme switch
    {
        StandardWebhooks => JsonSerializer.Serialize(new
        {
            type = "test.event",
            timestamp = now.UtcDateTime.ToString("O"),
            data = new { message = "test event from pipeline-ops" },
        }),
        HmacSha256 => JsonSerializer.Serialize(new
        {
            id = Guid.NewGuid().ToString(),
            event_type = "test.event",
            data = new { message = "test event from pipeline-ops" },
            timestamp = now.ToUnixTimeSeconds(),
            source = "pipeline-ops",
            version = "1.0",
        }),
        // Ingress keys a GitHub delivery by its body (the delivery id is not signed), so each sample's hook differs.
        GitHub => GitHubPing(RandomNumberGenerator.GetInt32(1, int.MaxValue), now),
        Stripe => JsonSerializer.Serialize(new
        {
            id = "evt_test_" + TestSigning.RandomId(),
            @object = "event",
            type = "test.event",
            created = now.ToUnixTimeSeconds(),
            livemode = false,
            data = new { @object = new { message = "test event from pipeline-ops" } },
        }),
        Slack => JsonSerializer.Serialize(new
        {
            type = "event_callback",
            event_id = "Ev" + TestSigning.RandomId().ToUpperInvariant(),
            event_time = now.ToUnixTimeSeconds(),
            @event = new { type = "app_mention", text = "test event from pipeline-ops" },
        }),
        _ => JsonSerializer.Serialize(new
        {
            run_id = Guid.NewGuid().ToString(),
            thread_id = Guid.NewGuid().ToString(),
            assistant_id = "test-assistant",
            status = "success",
        }),
    };
}
