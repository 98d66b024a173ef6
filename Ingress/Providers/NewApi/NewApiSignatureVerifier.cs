using Pipeline.Hosting.Access;

namespace Pipeline.Ingress.Providers.NewApi;

/// <summary>
/// Checks a new-api family webhook: <c>X-Webhook-Signature</c> = hex HMAC-SHA256(secret, raw body) (lower- or
/// upper-case, optionally behind <c>sha256=</c>; the generic <c>hmac-sha256</c> scheme's check), or, in new-api's proxy
/// mode, <c>Authorization: Bearer &lt;secret&gt;</c>. Either one proves the sender holds a configured secret; every
/// configured secret is tried (rotation).
/// </summary>
public static class NewApiSignatureVerifier
{
    public const string SignatureHeader = "X-Webhook-Signature";
    public const string AuthorizationHeader = "Authorization";

    public const string HmacScheme = "new-api-hmac-sha256";
    public const string BearerScheme = "new-api-bearer";

    private const string BearerPrefix = "Bearer ";

    public static VerificationResult Verify(ReadOnlySpan<byte> rawBody, IHeaderDictionary headers, IReadOnlyList<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(secrets);

        var keys = Signatures.Utf8Keys(secrets);
        if (keys.Length == 0)
        {
            return VerificationResult.NotConfigured;
        }

        var hasSignature = Signatures.TryGetHeader(headers, SignatureHeader, out var signature);
        var hasBearer = TryGetBearer(headers, out var bearer);
        if (!hasSignature && !hasBearer)
        {
            return VerificationResult.Invalid("missing signature header");
        }

        var check = hasSignature ? HexBodySignature.Check(rawBody, signature, keys) : BodySignatureCheck.Malformed;
        if (check == BodySignatureCheck.Match)
        {
            return VerificationResult.Valid(HmacScheme);
        }

        if (hasBearer && BearerKeys.Matches(bearer, secrets))
        {
            return VerificationResult.Valid(BearerScheme);
        }

        return VerificationResult.Invalid(
            !hasSignature ? "bearer token mismatch"
            : check == BodySignatureCheck.Mismatch ? "signature mismatch"
            : "malformed signature");
    }

    private static bool TryGetBearer(IHeaderDictionary headers, out string token)
    {
        token = "";
        if (!Signatures.TryGetHeader(headers, AuthorizationHeader, out var authorization)
            || !authorization.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        token = authorization[BearerPrefix.Length..].Trim();
        return token.Length > 0;
    }
}
