using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Pipeline.UnitTests.Providers.Generic;

/// <summary>Headers, secrets and signatures for the generic schemes, computed here independently of the verifiers.</summary>
internal static class GenericTestRequests
{
    public static IHeaderDictionary Headers(params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            dictionary.Append(name, value);
        }

        return dictionary;
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>A random text secret of 32 hex characters.</summary>
    public static string TextSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>A random standard-webhooks secret: whsec_ and 24 Base64-encoded random bytes.</summary>
    public static string WhsecSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    public static string HexHmac(string secret, string signed) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Utf8(secret), Utf8(signed)));

    public static string StandardWebhooksSignature(string whsecSecret, string id, long timestamp, string body)
    {
        var key = Convert.FromBase64String(whsecSecret.StartsWith("whsec_", StringComparison.Ordinal) ? whsecSecret[6..] : whsecSecret);
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, Utf8($"{id}.{timestamp}.{body}")));
    }

    public static long Unix(DateTimeOffset at) => at.ToUnixTimeSeconds();
}
