namespace Pipeline.Ingress.Providers.Generic;

/// <summary>
/// The agent platform of seed 004: <c>X-Webhook-Signature: sha256=&lt;hex HMAC-SHA256(secret, body)&gt;</c> (the prefix
/// is optional) and an optional <c>X-Webhook-Timestamp</c> in unix seconds, checked against the tolerance when sent.
/// The timestamp is not part of what is signed, so it only limits honest replays; dedup does the rest.
/// </summary>
public static class HmacSha256Verifier
{
    public const string SignatureHeader = "X-Webhook-Signature";
    public const string TimestampHeader = "X-Webhook-Timestamp";
    public const string EventHeader = "X-Webhook-Event";

    public static VerificationResult Verify(
        ReadOnlySpan<byte> body, IHeaderDictionary headers, IReadOnlyList<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        var result = VerifyBodySignature(body, headers, secrets, SignatureHeader, SourceSchemes.HmacSha256);
        if (!result.IsValid || !Signatures.TryGetHeader(headers, TimestampHeader, out var timestampText))
        {
            return result;
        }

        if (!Signatures.TryParseUnixSeconds(timestampText, allowFraction: true, out var timestamp))
        {
            return VerificationResult.Invalid(GenericReasons.MalformedTimestamp, StatusCodes.Status400BadRequest);
        }

        return Signatures.WithinTolerance(timestamp, now, tolerance)
            ? result
            : VerificationResult.Invalid(GenericReasons.OutsideTolerance);
    }

    /// <summary>A hex HMAC-SHA256 of the body alone in <paramref name="header"/>: this scheme without its timestamp, and GitHub's.</summary>
    internal static VerificationResult VerifyBodySignature(
        ReadOnlySpan<byte> body, IHeaderDictionary headers, IReadOnlyList<string> secrets, string header, string scheme)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(secrets);
        if (!Signatures.TryGetHeader(headers, header, out var received))
        {
            return VerificationResult.Invalid(GenericReasons.MissingSignature);
        }

        var keys = Signatures.Utf8Keys(secrets);
        if (keys.Length == 0)
        {
            return VerificationResult.NotConfigured;
        }

        return HexBodySignature.Check(body, received, keys) switch
        {
            BodySignatureCheck.Match => VerificationResult.Valid(scheme),
            BodySignatureCheck.Mismatch => VerificationResult.Invalid(GenericReasons.SignatureMismatch),
            _ => VerificationResult.Invalid(GenericReasons.MalformedSignature),
        };
    }
}
