namespace Pipeline.Ingress.Providers.Generic;

/// <summary>
/// Stripe: <c>Stripe-Signature: t=&lt;unix&gt;,v1=&lt;hex&gt;[,v1=&lt;hex&gt;…]</c>, each v1 a hex HMAC-SHA256 of
/// <c>"{t}.{body}"</c> keyed with the whole secret string (<c>whsec_…</c> included, as UTF-8). Any v1 may match;
/// other schemes (v0) are ignored.
/// </summary>
public static class StripeSignatureVerifier
{
    public const string SignatureHeader = "Stripe-Signature";

    public static VerificationResult Verify(
        ReadOnlySpan<byte> body, IHeaderDictionary headers, IReadOnlyList<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(secrets);

        if (!Signatures.TryGetHeader(headers, SignatureHeader, out var header))
        {
            return VerificationResult.Invalid(GenericReasons.MissingSignature);
        }

        var keys = Signatures.Utf8Keys(secrets);
        if (keys.Length == 0)
        {
            return VerificationResult.NotConfigured;
        }

        string? timestampText = null;
        var candidates = new List<byte[]>();
        foreach (var item in header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = item.IndexOf('=');
            if (equals <= 0)
            {
                continue;
            }

            var name = item.AsSpan(0, equals);
            var value = item.AsSpan(equals + 1);
            if (name.SequenceEqual("t"))
            {
                timestampText ??= value.ToString();
            }
            else if (name.SequenceEqual("v1"))
            {
                candidates.Add(Signatures.TryDecodeHexDigest(value, prefix: null, out var digest) ? digest : []);
            }
        }

        if (timestampText is null || candidates.Count == 0)
        {
            return VerificationResult.Invalid(GenericReasons.MalformedSignature);
        }

        return TimestampedHmac.Check(keys, timestampText, timestampText + ".", body, candidates, now, tolerance, SourceSchemes.Stripe);
    }
}
