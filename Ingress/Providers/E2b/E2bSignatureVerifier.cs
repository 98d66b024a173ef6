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

    public static VerificationResult Verify(ReadOnlySpan<byte> rawBody, IHeaderDictionary headers, IReadOnlyList<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(secrets);

        bool sha256Scheme;
        if (Signatures.TryGetHeader(headers, SignatureHeader, out var received, blankIsPresent: true))
        {
            sha256Scheme = true;
            if (Signatures.TryGetHeader(headers, SignatureVersionHeader, out var version, blankIsPresent: true)
                && !version.Equals("v1", StringComparison.OrdinalIgnoreCase))
            {
                return VerificationResult.Invalid("unsupported e2b-signature-version");
            }
        }
        else if (Signatures.TryGetHeader(headers, SeedSignatureHeader, out received, blankIsPresent: true))
        {
            sha256Scheme = false;
        }
        else
        {
            return VerificationResult.Invalid("missing signature header");
        }

        // Blank secrets never count: with an empty one the SHA-256 scheme would be the digest of the body alone.
        var keys = Signatures.Utf8Keys(secrets);
        if (keys.Length == 0)
        {
            return VerificationResult.NotConfigured;
        }

        if (sha256Scheme)
        {
            return !Signatures.TryDecodeBase64Digest(received, urlSafe: true, out var expected) ? VerificationResult.Invalid("malformed signature")
                : Signatures.AnySha256OfKeyAndBody(keys, rawBody, expected) ? VerificationResult.Valid(Sha256Scheme)
                : VerificationResult.Invalid("signature mismatch");
        }

        return HexBodySignature.Check(rawBody, received, keys) switch
        {
            BodySignatureCheck.Match => VerificationResult.Valid(HmacScheme),
            BodySignatureCheck.Mismatch => VerificationResult.Invalid("signature mismatch"),
            _ => VerificationResult.Invalid("malformed signature"),
        };
    }
}
