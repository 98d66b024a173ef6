using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Pipeline.Ingress.Providers.E2b;

/// <summary>
/// Checks an E2B webhook signature in either of the two schemes seen on the same endpoint:
/// E2B's current <c>e2b-signature</c> (unpadded Base64 of SHA-256(secret ++ body), not an HMAC) and the
/// seed deployments' <c>X-E2B-Signature</c> (hex HMAC-SHA256).
/// </summary>
public static class E2bSignatureVerifier
{
    public const string SignatureHeader = "e2b-signature";
    public const string SignatureVersionHeader = "e2b-signature-version";
    public const string SeedSignatureHeader = "X-E2B-Signature";

    public const string Sha256Scheme = "e2b-sha256";
    public const string HmacScheme = "e2b-hmac-sha256";

    private const int DigestSize = 32; // SHA-256

    // Generous bound on a header value we are willing to decode; a SHA-256 digest needs 43 (Base64) or 71 (sha256=hex) chars.
    private const int MaxSignatureChars = 128;

    // Secrets up to this many UTF-8 bytes are encoded on the stack; longer ones use one pooled buffer.
    private const int StackSecretBytes = 256;

    public static VerificationResult Verify(ReadOnlySpan<byte> rawBody, IHeaderDictionary headers, IReadOnlyList<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(secrets);

        bool sha256Scheme;
        string received;
        if (TryGetSingle(headers, SignatureHeader, out received))
        {
            sha256Scheme = true;
            if (TryGetSingle(headers, SignatureVersionHeader, out var version)
                && !version.AsSpan().Trim().Equals("v1", StringComparison.OrdinalIgnoreCase))
            {
                return VerificationResult.Invalid("unsupported e2b-signature-version");
            }
        }
        else if (TryGetSingle(headers, SeedSignatureHeader, out received))
        {
            sha256Scheme = false;
        }
        else
        {
            return VerificationResult.Invalid("missing signature header");
        }

        // An empty secret would make the SHA-256 scheme forgeable by anyone (the digest of the body alone), so it never counts.
        var maxSecretBytes = 0;
        for (var i = 0; i < secrets.Count; i++)
        {
            var secret = secrets[i];
            if (!string.IsNullOrEmpty(secret))
            {
                maxSecretBytes = Math.Max(maxSecretBytes, Encoding.UTF8.GetByteCount(secret));
            }
        }

        if (maxSecretBytes == 0)
        {
            return VerificationResult.Invalid("no secret configured");
        }

        Span<byte> expectedSignature = stackalloc byte[DigestSize];
        var decoded = sha256Scheme
            ? SignatureEncoding.TryDecodeBase64(received, expectedSignature)
            : SignatureEncoding.TryDecodeHex(received, expectedSignature);
        if (!decoded)
        {
            return VerificationResult.Invalid("malformed signature");
        }

        byte[]? rented = null;
        Span<byte> secretBuffer = maxSecretBytes <= StackSecretBytes
            ? stackalloc byte[StackSecretBytes]
            : (rented = ArrayPool<byte>.Shared.Rent(maxSecretBytes));
        Span<byte> computed = stackalloc byte[DigestSize];
        using var hash = sha256Scheme ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;

        try
        {
            // Every secret is checked, with no early exit, so the time taken does not say which one matched.
            var matched = false;
            for (var i = 0; i < secrets.Count; i++)
            {
                var secret = secrets[i];
                if (string.IsNullOrEmpty(secret))
                {
                    continue;
                }

                var key = secretBuffer[..Encoding.UTF8.GetBytes(secret, secretBuffer)];
                if (hash is not null)
                {
                    hash.AppendData(key);
                    hash.AppendData(rawBody);
                    hash.GetHashAndReset(computed);
                }
                else
                {
                    HMACSHA256.HashData(key, rawBody, computed);
                }

                matched |= CryptographicOperations.FixedTimeEquals(computed, expectedSignature);
            }

            return matched
                ? VerificationResult.Valid(sha256Scheme ? Sha256Scheme : HmacScheme)
                : VerificationResult.Invalid("signature mismatch");
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

    // A header counts as present when it carries a value; a repeated header is taken at its first value,
    // which then has to verify on its own.
    private static bool TryGetSingle(IHeaderDictionary headers, string name, out string value)
    {
        if (headers.TryGetValue(name, out var values) && values.Count > 0 && values[0] is { } first)
        {
            value = first;
            return true;
        }

        value = "";
        return false;
    }

}
