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
    public const string SignaturePrefix = "sha256=";

    public static VerificationResult Verify(
        ReadOnlySpan<byte> body, IHeaderDictionary headers, IReadOnlyList<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(secrets);

        var result = HexBodySignature.Verify(body, headers, secrets, SignatureHeader, SignaturePrefix, SourceSchemes.HmacSha256);
        if (!result.IsValid || !SignatureChecks.TryGetHeader(headers, TimestampHeader, out var timestampText))
        {
            return result;
        }

        if (!SignatureChecks.TryParseUnixSeconds(timestampText, allowFraction: true, out var timestamp))
        {
            return VerificationResult.Invalid(GenericReasons.MalformedTimestamp);
        }

        return SignatureChecks.WithinTolerance(timestamp, now, tolerance)
            ? result
            : VerificationResult.Invalid(GenericReasons.OutsideTolerance);
    }
}
