using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Pipeline.IntegrationTests.Interop;

/// <summary>
/// Signs a webhook body exactly as a LiveKit server does: an HS256 JWT with <c>iss</c> = API key, <c>nbf</c> = now,
/// <c>exp</c> = now + 5 minutes and <c>sha256</c> = padded Base64 of SHA-256(body), sent raw in <c>Authorization</c>
/// with <c>Content-Type: application/webhook+json</c>.
/// </summary>
public static class LiveKitTestSigner
{
    public const string ContentType = "application/webhook+json";

    private static readonly TimeSpan LiveKitTokenLifetime = TimeSpan.FromMinutes(5);

    // HMAC-SHA256's block size: RFC 2104 zero-pads shorter keys to it, so padding here changes no signature but
    // satisfies IdentityModel, which refuses HMAC keys under 256 bits (LiveKit secrets may be shorter).
    private const int HmacBlockSize = 64;

    public static string Sign(string apiKey, string apiSecret, ReadOnlySpan<byte> body, DateTimeOffset? now = null, TimeSpan? lifetime = null)
    {
        var notBefore = now ?? DateTimeOffset.UtcNow;
        var key = Encoding.UTF8.GetBytes(apiSecret);
        if (key.Length < HmacBlockSize)
        {
            Array.Resize(ref key, HmacBlockSize);
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = apiKey,
            NotBefore = notBefore.UtcDateTime,
            Expires = (notBefore + (lifetime ?? LiveKitTokenLifetime)).UtcDateTime,
            Claims = new Dictionary<string, object> { ["sha256"] = Convert.ToBase64String(SHA256.HashData(body)) },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
        });
    }

    /// <summary>A POST of <paramref name="body"/> to <paramref name="path"/>, signed for <paramref name="apiKey"/>.</summary>
    public static HttpRequestMessage SignedRequest(string body, string apiKey, string apiSecret, string path = "webhooks/livekit")
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(ContentType);
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Headers.TryAddWithoutValidation("Authorization", Sign(apiKey, apiSecret, bytes));
        return request;
    }
}
