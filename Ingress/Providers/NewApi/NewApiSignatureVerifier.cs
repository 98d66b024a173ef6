using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Ingress.Providers.NewApi;

/// <summary>
/// Checks a new-api family webhook: <c>X-Webhook-Signature</c> = hex HMAC-SHA256(secret, raw body) (lower- or
/// upper-case, optionally behind <c>sha256=</c>), or, in new-api's proxy mode, <c>Authorization: Bearer &lt;secret&gt;</c>.
/// Either one proves the sender holds a configured secret; every configured secret is tried (rotation).
/// </summary>
public static class NewApiSignatureVerifier
{
    public const string SignatureHeader = "X-Webhook-Signature";
    public const string AuthorizationHeader = "Authorization";

    public const string HmacScheme = "new-api-hmac-sha256";
    public const string BearerScheme = "new-api-bearer";

    private const int DigestSize = 32; // SHA-256

    // Secrets up to this many UTF-8 bytes are encoded on the stack; longer ones use one pooled buffer.
    private const int StackSecretBytes = 256;

    public static VerificationResult Verify(ReadOnlySpan<byte> rawBody, IHeaderDictionary headers, IReadOnlyList<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(secrets);

        var maxSecretBytes = 0;
        for (var i = 0; i < secrets.Count; i++)
        {
            if (!string.IsNullOrEmpty(secrets[i]))
            {
                maxSecretBytes = Math.Max(maxSecretBytes, Encoding.UTF8.GetByteCount(secrets[i]));
            }
        }

        if (maxSecretBytes == 0)
        {
            return VerificationResult.Invalid("provider not configured", StatusCodes.Status404NotFound);
        }

        var hasSignature = TryGetSingle(headers, SignatureHeader, out var signature);
        var hasBearer = TryGetBearer(headers, out var bearer);
        if (!hasSignature && !hasBearer)
        {
            return VerificationResult.Invalid("missing signature header");
        }

        var signatureDecoded = false;
        if (hasSignature)
        {
            Span<byte> expected = stackalloc byte[DigestSize];
            signatureDecoded = SignatureEncoding.TryDecodeHex(signature, expected);
            if (signatureDecoded && MatchesHmac(rawBody, expected, secrets, maxSecretBytes))
            {
                return VerificationResult.Valid(HmacScheme);
            }
        }

        if (hasBearer && MatchesBearer(bearer, secrets))
        {
            return VerificationResult.Valid(BearerScheme);
        }

        return VerificationResult.Invalid(
            !hasSignature ? "bearer token mismatch"
            : signatureDecoded ? "signature mismatch"
            : "malformed signature");
    }

    private static bool MatchesHmac(ReadOnlySpan<byte> rawBody, ReadOnlySpan<byte> expected, IReadOnlyList<string> secrets, int maxSecretBytes)
    {
        byte[]? rented = null;
        Span<byte> secretBuffer = maxSecretBytes <= StackSecretBytes
            ? stackalloc byte[StackSecretBytes]
            : (rented = ArrayPool<byte>.Shared.Rent(maxSecretBytes));
        Span<byte> computed = stackalloc byte[DigestSize];
        try
        {
            // Every secret is checked, with no early exit, so the time taken does not say which one matched.
            var matched = false;
            for (var i = 0; i < secrets.Count; i++)
            {
                if (string.IsNullOrEmpty(secrets[i]))
                {
                    continue;
                }

                var key = secretBuffer[..Encoding.UTF8.GetBytes(secrets[i], secretBuffer)];
                HMACSHA256.HashData(key, rawBody, computed);
                matched |= CryptographicOperations.FixedTimeEquals(computed, expected);
            }

            return matched;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secretBuffer);
            CryptographicOperations.ZeroMemory(computed);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    // The token is the secret itself; both are hashed first so the comparison takes the same time whatever their lengths.
    private static bool MatchesBearer(string token, IReadOnlyList<string> secrets)
    {
        Span<byte> presented = stackalloc byte[DigestSize];
        Span<byte> candidate = stackalloc byte[DigestSize];
        SHA256.HashData(Encoding.UTF8.GetBytes(token), presented);
        var matched = false;
        for (var i = 0; i < secrets.Count; i++)
        {
            if (string.IsNullOrEmpty(secrets[i]))
            {
                continue;
            }

            SHA256.HashData(Encoding.UTF8.GetBytes(secrets[i]), candidate);
            matched |= CryptographicOperations.FixedTimeEquals(presented, candidate);
        }

        CryptographicOperations.ZeroMemory(candidate);
        return matched;
    }

    private static bool TryGetSingle(IHeaderDictionary headers, string name, out string value)
    {
        if (headers.TryGetValue(name, out var values) && values.Count > 0 && !string.IsNullOrWhiteSpace(values[0]))
        {
            value = values[0]!;
            return true;
        }

        value = "";
        return false;
    }

    private static bool TryGetBearer(IHeaderDictionary headers, out string token)
    {
        token = "";
        if (!TryGetSingle(headers, AuthorizationHeader, out var authorization))
        {
            return false;
        }

        var value = authorization.AsSpan().Trim();
        if (!value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var presented = value["Bearer ".Length..].Trim();
        if (presented.IsEmpty)
        {
            return false;
        }

        token = presented.ToString();
        return true;
    }

}
