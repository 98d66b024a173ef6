using System.Text;

namespace Pipeline.Ingress.Providers.Generic;

/// <summary>
/// How the timestamped schemes (Standard Webhooks, Stripe, Slack) end: the timestamp parsed, HMAC-SHA256 of
/// <c>signedPrefix ++ body</c> compared with the candidates, then the tolerance. The tolerance is checked after the
/// signature, so a stale but genuine delivery is told apart from a forgery in the logs.
/// </summary>
internal static class TimestampedHmac
{
    public static VerificationResult Check(
        IReadOnlyList<byte[]> keys, string timestampText, string signedPrefix, ReadOnlySpan<byte> body, IReadOnlyList<byte[]> candidates,
        DateTimeOffset now, TimeSpan tolerance, string scheme)
    {
        if (!Signatures.TryParseUnixSeconds(timestampText, allowFraction: false, out var timestamp))
        {
            return VerificationResult.Invalid(GenericReasons.MalformedTimestamp, StatusCodes.Status400BadRequest);
        }

        if (!Signatures.AnyHmacSha256(keys, Encoding.UTF8.GetBytes(signedPrefix), body, candidates))
        {
            return VerificationResult.Invalid(GenericReasons.SignatureMismatch);
        }

        return Signatures.WithinTolerance(timestamp, now, tolerance)
            ? VerificationResult.Valid(scheme)
            : VerificationResult.Invalid(GenericReasons.OutsideTolerance);
    }
}
