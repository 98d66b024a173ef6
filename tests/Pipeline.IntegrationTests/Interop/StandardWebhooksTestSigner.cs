using System.Security.Cryptography;
using System.Text;

namespace Pipeline.IntegrationTests.Interop;

/// <summary>A sender's side of Standard Webhooks, written from the specification for the tests.</summary>
public static class StandardWebhooksTestSigner
{
    /// <summary>A random secret in the usual form: whsec_ and the Base64 of a 24-byte key.</summary>
    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    /// <summary><c>v1,</c> and the Base64 HMAC-SHA256 of <c>"{id}.{timestamp}.{payload}"</c> keyed with the decoded secret.</summary>
    public static string Sign(string secret, string id, long timestamp, string payload)
    {
        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret["whsec_".Length..] : secret);
        var signature = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"{id}.{timestamp}.{payload}"));
        return "v1," + Convert.ToBase64String(signature);
    }

    public static IReadOnlyDictionary<string, string> Headers(string secret, string id, long timestamp, string payload, string prefix = "webhook") =>
        new Dictionary<string, string>
        {
            [$"{prefix}-id"] = id,
            [$"{prefix}-timestamp"] = timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [$"{prefix}-signature"] = Sign(secret, id, timestamp, payload),
        };
}
