using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Signing;

/// <summary>
/// The signature headers of one attempt, with no I/O. Standard Webhooks: HMAC-SHA256 with the Base64-decoded
/// <c>whsec_</c> key over <c>{webhook-id}.{webhook-timestamp}.{body}</c>, one <c>v1,&lt;base64&gt;</c> per active
/// secret, space-separated. Seed 004 (<c>hmac-sha256</c>): <c>X-Webhook-Signature: sha256=&lt;hex HMAC(secret, body)&gt;</c>
/// with the secret's UTF-8 bytes as the key, as the seed's receiver computes it.
/// </summary>
public static class WebhookSigner
{
    public const string SecretPrefix = "whsec_";
    public const int SecretBytes = 32;

    public const string WebhookId = "webhook-id";
    public const string WebhookTimestamp = "webhook-timestamp";
    public const string WebhookSignature = "webhook-signature";

    public const string SeedSignature = "X-Webhook-Signature";

    /// <summary>During a rotation's overlap: the seed scheme has room for one signature, so the old secret's goes here.</summary>
    public const string SeedPreviousSignature = "X-Webhook-Signature-Previous";

    public const string SeedEvent = "X-Webhook-Event";
    public const string SeedDelivery = "X-Webhook-Delivery";
    public const string SeedTimestamp = "X-Webhook-Timestamp";

    /// <summary>Headers the signer owns: an endpoint's own headers may not set them.</summary>
    public static readonly IReadOnlyList<string> Reserved =
        [WebhookId, WebhookTimestamp, WebhookSignature, SeedSignature, SeedPreviousSignature, SeedEvent, SeedDelivery, SeedTimestamp];

    /// <summary><c>whsec_</c> + Base64 of 32 random bytes.</summary>
    public static string NewSecret() => SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(SecretBytes));

    /// <summary>The HMAC key of a Standard Webhooks secret: the Base64 after <c>whsec_</c>.</summary>
    public static byte[] KeyOf(string secret) =>
        Convert.FromBase64String(secret.StartsWith(SecretPrefix, StringComparison.Ordinal) ? secret[SecretPrefix.Length..] : secret);

    /// <param name="secrets">The active secrets, newest first; each adds one <c>v1,</c> entry.</param>
    public static string StandardWebhooksSignature(IReadOnlyList<string> secrets, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{id}.{timestamp.ToString(CultureInfo.InvariantCulture)}.");
        var content = new byte[prefix.Length + body.Length];
        prefix.CopyTo(content, 0);
        body.CopyTo(content.AsSpan(prefix.Length));
        return string.Join(' ', secrets.Select(s => "v1," + Convert.ToBase64String(HMACSHA256.HashData(KeyOf(s), content))));
    }

    public static string HmacSha256Signature(string secret, ReadOnlySpan<byte> body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    /// <summary>The scheme's headers for one attempt made at <paramref name="timestamp"/> (unix seconds).</summary>
    /// <param name="secrets">The active secrets, newest first (see <see cref="ActiveSecrets"/>).</param>
    public static List<KeyValuePair<string, string>> Headers(
        string scheme, IReadOnlyList<string> secrets, string eventId, string eventType, Guid deliveryId, long timestamp, ReadOnlySpan<byte> body)
    {
        var ts = timestamp.ToString(CultureInfo.InvariantCulture);
        if (scheme == SigningSchemes.HmacSha256)
        {
            var headers = new List<KeyValuePair<string, string>>
            {
                new(SeedSignature, HmacSha256Signature(secrets[0], body)),
                new(SeedEvent, eventType),
                new(SeedDelivery, deliveryId.ToString()),
                new(SeedTimestamp, ts),
            };
            if (secrets.Count > 1)
            {
                headers.Add(new(SeedPreviousSignature, HmacSha256Signature(secrets[1], body)));
            }

            return headers;
        }

        return
        [
            new(WebhookId, eventId),
            new(WebhookTimestamp, ts),
            new(WebhookSignature, StandardWebhooksSignature(secrets, eventId, timestamp, body)),
        ];
    }

    /// <summary>The current secret, then the one before the last rotation while its overlap lasts.</summary>
    public static IReadOnlyList<string> ActiveSecrets(WebhookEndpoint endpoint, DateTime now) =>
        endpoint.PreviousSecret is { } previous && endpoint.PreviousSecretExpiresAt > now
            ? [endpoint.Secret, previous]
            : [endpoint.Secret];
}
