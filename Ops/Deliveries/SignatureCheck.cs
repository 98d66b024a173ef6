using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Ops.Deliveries;

/// <summary>
/// What a receiver does with a delivery, written from the Standard Webhooks specification (not from the sender's
/// code): HMAC-SHA256 with the Base64-decoded <c>whsec_</c> key over <c>{id}.{timestamp}.{body}</c>, compared in constant
/// time with every <c>v1,</c> entry of <c>webhook-signature</c>, and the timestamp within five minutes of now.
/// </summary>
public static class SignatureCheck
{
    public static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    /// <returns>null when the delivery is genuine, else why not.</returns>
    public static string? Verify(string secret, string? id, string? timestamp, string? signatures, byte[] body, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(timestamp) || string.IsNullOrEmpty(signatures))
        {
            return "missing webhook-id, webhook-timestamp or webhook-signature";
        }

        if (!long.TryParse(timestamp, out var seconds) || (now - DateTimeOffset.FromUnixTimeSeconds(seconds)).Duration() > Tolerance)
        {
            return "timestamp missing or more than 5 minutes away from now";
        }

        var key = Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret);
        byte[] signed = [.. Encoding.UTF8.GetBytes($"{id}.{timestamp}."), .. body];
        var expected = HMACSHA256.HashData(key, signed);
        foreach (var entry in signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (entry.StartsWith("v1,", StringComparison.Ordinal)
                && TryBase64(entry[3..]) is { } given
                && CryptographicOperations.FixedTimeEquals(given, expected))
            {
                return null;
            }
        }

        return "no matching signature";
    }

    private static byte[]? TryBase64(string text)
    {
        var buffer = new byte[text.Length];
        return Convert.TryFromBase64String(text, buffer, out var written) ? buffer[..written] : null;
    }
}
