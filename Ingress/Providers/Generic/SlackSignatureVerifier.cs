namespace Pipeline.Ingress.Providers.Generic;

/// <summary>
/// Slack: <c>X-Slack-Signature: v0=&lt;hex HMAC-SHA256(signing secret, "v0:{X-Slack-Request-Timestamp}:{body}")&gt;</c>,
/// the timestamp within the tolerance.
/// </summary>
public static class SlackSignatureVerifier
{
    public const string SignatureHeader = "X-Slack-Signature";
    public const string TimestampHeader = "X-Slack-Request-Timestamp";
    public const string SignaturePrefix = "v0=";

    public static VerificationResult Verify(
        ReadOnlySpan<byte> body, IHeaderDictionary headers, IReadOnlyList<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(secrets);

        if (!Signatures.TryGetHeader(headers, SignatureHeader, out var received))
        {
            return VerificationResult.Invalid(GenericReasons.MissingSignature);
        }

        if (!Signatures.TryGetHeader(headers, TimestampHeader, out var timestampText))
        {
            return VerificationResult.Invalid(GenericReasons.MissingTimestamp);
        }

        var keys = Signatures.Utf8Keys(secrets);
        if (keys.Length == 0)
        {
            return VerificationResult.NotConfigured;
        }

        if (!received.StartsWith(SignaturePrefix, StringComparison.Ordinal)
            || !Signatures.TryDecodeHexDigest(received.AsSpan(SignaturePrefix.Length), prefix: null, out var digest))
        {
            return VerificationResult.Invalid(GenericReasons.MalformedSignature);
        }

        return TimestampedHmac.Check(keys, timestampText, $"v0:{timestampText}:", body, [digest], now, tolerance, SourceSchemes.Slack);
    }
}
