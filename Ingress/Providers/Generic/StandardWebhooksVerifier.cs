using System.Diagnostics.CodeAnalysis;

namespace Pipeline.Ingress.Providers.Generic;

/// <summary>
/// Standard Webhooks (and Svix, the same scheme under <c>svix-*</c> headers): <c>webhook-signature</c> holds
/// space-separated <c>v1,&lt;base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")&gt;</c> entries, any one of which may
/// match; the key is the Base64-decoded part of a <c>whsec_…</c> secret.
/// </summary>
public static class StandardWebhooksVerifier
{
    public const string SecretPrefix = "whsec_";

    /// <summary>The longest key accepted (the specification allows 24 to 64 bytes).</summary>
    public const int MaxKeyBytes = 64;

    public static readonly HeaderNames Webhook = new("webhook-id", "webhook-timestamp", "webhook-signature");
    public static readonly HeaderNames Svix = new("svix-id", "svix-timestamp", "svix-signature");

    /// <summary>
    /// The HMAC key of a secret: the Base64 after <c>whsec_</c>. A secret without the prefix is Base64-decoded too, as
    /// the npm <c>standardwebhooks</c> library does; padding is optional.
    /// </summary>
    public static bool TryDecodeSecret(string secret, [NotNullWhen(true)] out byte[]? key)
    {
        var text = secret.AsSpan().Trim();
        if (text.StartsWith(SecretPrefix, StringComparison.Ordinal))
        {
            text = text[SecretPrefix.Length..];
        }

        key = Signatures.TryDecodeBase64(text, MaxKeyBytes) is { Length: > 0 } bytes ? bytes : null;
        return key is not null;
    }

    public static VerificationResult Verify(
        ReadOnlySpan<byte> body, IHeaderDictionary headers, IReadOnlyList<string> secrets, DateTimeOffset now, TimeSpan tolerance)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(secrets);

        // One family or the other, never mixed: the webhook-* headers win when both are sent.
        string signatures;
        var names = Webhook;
        if (!Signatures.TryGetHeader(headers, names.Signature, out signatures))
        {
            names = Svix;
            if (!Signatures.TryGetHeader(headers, names.Signature, out signatures))
            {
                return VerificationResult.Invalid(GenericReasons.MissingSignature);
            }
        }

        if (!Signatures.TryGetHeader(headers, names.Id, out var id))
        {
            return VerificationResult.Invalid(GenericReasons.MissingId);
        }

        if (!Signatures.TryGetHeader(headers, names.Timestamp, out var timestampText))
        {
            return VerificationResult.Invalid(GenericReasons.MissingTimestamp);
        }

        // Parsed here and again at the end: a malformed timestamp is reported before anything about secrets or signatures.
        if (!Signatures.TryParseUnixSeconds(timestampText, allowFraction: false, out _))
        {
            return VerificationResult.Invalid(GenericReasons.MalformedTimestamp, StatusCodes.Status400BadRequest);
        }

        var keys = new List<byte[]>(secrets.Count);
        foreach (var secret in secrets)
        {
            if (!string.IsNullOrWhiteSpace(secret) && TryDecodeSecret(secret, out var key))
            {
                keys.Add(key);
            }
        }

        if (keys.Count == 0)
        {
            return VerificationResult.NotConfigured;
        }

        var candidates = new List<byte[]>();
        var entries = 0;
        foreach (var entry in signatures.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var comma = entry.IndexOf(',');
            if (comma <= 0 || comma == entry.Length - 1)
            {
                continue;
            }

            entries++;

            // Other versions (v1a is asymmetric) are ignored; a v1 entry that is not a digest simply cannot match.
            if (entry.AsSpan(0, comma).SequenceEqual("v1"))
            {
                candidates.Add(Signatures.TryDecodeBase64Digest(entry.AsSpan(comma + 1), urlSafe: false, out var digest) ? digest : []);
            }
        }

        if (entries == 0)
        {
            return VerificationResult.Invalid(GenericReasons.MalformedSignature);
        }

        if (candidates.Count == 0)
        {
            return VerificationResult.Invalid(GenericReasons.UnsupportedVersion);
        }

        return TimestampedHmac.Check(keys, timestampText, $"{id}.{timestampText}.", body, candidates, now, tolerance, SourceSchemes.StandardWebhooks);
    }

    /// <summary>The id, timestamp and signature headers of one header family.</summary>
    public sealed record HeaderNames(string Id, string Timestamp, string Signature);
}
