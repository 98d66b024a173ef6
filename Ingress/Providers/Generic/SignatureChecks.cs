using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Ingress.Providers.Generic;

/// <summary>What the HMAC schemes share: reading headers, decoding digests, computing and comparing in constant time.</summary>
internal static class SignatureChecks
{
    public const int DigestSize = 32; // HMAC-SHA256

    // Unix seconds DateTimeOffset can represent (years 0001 to 9999).
    private const long MinUnixSeconds = -62_135_596_800;
    private const long MaxUnixSeconds = 253_402_300_799;

    /// <summary>The first value of a header, trimmed; a header without a non-blank value counts as absent.</summary>
    public static bool TryGetHeader(IHeaderDictionary headers, string name, out string value)
    {
        if (headers.TryGetValue(name, out var values) && values.Count > 0 && !string.IsNullOrWhiteSpace(values[0]))
        {
            value = values[0]!.Trim();
            return true;
        }

        value = "";
        return false;
    }

    /// <summary>The secrets as HMAC keys (their UTF-8 bytes); blank entries are skipped.</summary>
    public static List<byte[]> Utf8Keys(IReadOnlyList<string> secrets)
    {
        var keys = new List<byte[]>(secrets.Count);
        foreach (var secret in secrets)
        {
            if (!string.IsNullOrWhiteSpace(secret))
            {
                keys.Add(Encoding.UTF8.GetBytes(secret));
            }
        }

        return keys;
    }

    /// <summary>
    /// True when HMAC-SHA256(key, prefix ++ body) equals one of <paramref name="candidates"/> for one of the keys.
    /// Every key and every candidate is compared, with no early exit, so the time taken does not say which matched.
    /// </summary>
    public static bool AnyMatch(IReadOnlyList<byte[]> keys, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body, IReadOnlyList<byte[]> candidates)
    {
        Span<byte> computed = stackalloc byte[DigestSize];
        var matched = false;
        try
        {
            foreach (var key in keys)
            {
                using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
                hmac.AppendData(prefix);
                hmac.AppendData(body);
                hmac.GetHashAndReset(computed);
                foreach (var candidate in candidates)
                {
                    matched |= CryptographicOperations.FixedTimeEquals(computed, candidate);
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(computed);
        }

        return matched;
    }

    /// <summary>A 64-character hex SHA-256 digest, lower- or upper-case, optionally behind <paramref name="prefix"/>.</summary>
    public static bool TryDecodeHex(ReadOnlySpan<char> value, string? prefix, [NotNullWhen(true)] out byte[]? digest)
    {
        digest = null;
        var hex = value.Trim();
        if (prefix is not null && hex.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
        {
            hex = hex[prefix.Length..];
        }

        if (hex.Length != DigestSize * 2)
        {
            return false;
        }

        var bytes = new byte[DigestSize];
        if (Convert.FromHexString(hex, bytes, out _, out var written) != OperationStatus.Done || written != DigestSize)
        {
            return false;
        }

        digest = bytes;
        return true;
    }

    /// <summary>Base64, padded or not, of exactly one SHA-256 digest.</summary>
    public static bool TryDecodeBase64Digest(ReadOnlySpan<char> value, [NotNullWhen(true)] out byte[]? digest)
    {
        digest = TryDecodeBase64(value, maxBytes: DigestSize) is { Length: DigestSize } bytes ? bytes : null;
        return digest is not null;
    }

    /// <summary>Standard-alphabet Base64 with or without its padding; null when it is not Base64 or longer than <paramref name="maxBytes"/>.</summary>
    public static byte[]? TryDecodeBase64(ReadOnlySpan<char> value, int maxBytes)
    {
        var text = value.Trim().TrimEnd('=');
        if (text.IsEmpty || text.Length % 4 == 1 || text.Length > (maxBytes + 2) / 3 * 4)
        {
            return null;
        }

        var padded = new char[(text.Length + 3) / 4 * 4];
        text.CopyTo(padded);
        padded.AsSpan(text.Length).Fill('=');
        var bytes = new byte[padded.Length / 4 * 3];
        return Convert.TryFromBase64Chars(padded, bytes, out var written) && written <= maxBytes ? bytes[..written] : null;
    }

    /// <summary>Whole unix seconds, or with a fraction where <paramref name="allowFraction"/> (the seed's senders write Python floats).</summary>
    public static bool TryParseUnixSeconds(string value, bool allowFraction, out DateTimeOffset timestamp)
    {
        timestamp = default;
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
        {
            if (seconds is < MinUnixSeconds or > MaxUnixSeconds)
            {
                return false;
            }

            timestamp = DateTimeOffset.FromUnixTimeSeconds(seconds);
            return true;
        }

        if (!allowFraction
            || !decimal.TryParse(value, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var fractional)
            || fractional is < MinUnixSeconds or > MaxUnixSeconds)
        {
            return false;
        }

        timestamp = DateTimeOffset.FromUnixTimeMilliseconds((long)decimal.Round(fractional * 1000m, MidpointRounding.AwayFromZero));
        return true;
    }

    /// <summary>Within ±<paramref name="tolerance"/> of now: too old and too far in the future both fail.</summary>
    public static bool WithinTolerance(DateTimeOffset timestamp, DateTimeOffset now, TimeSpan tolerance) =>
        (now - timestamp).Duration() <= tolerance;
}

/// <summary>A hex HMAC-SHA256 of the body alone in one header, optionally behind a prefix.</summary>
internal static class HexBodySignature
{
    public static VerificationResult Verify(
        ReadOnlySpan<byte> body, IHeaderDictionary headers, IReadOnlyList<string> secrets, string header, string prefix, string scheme)
    {
        if (!SignatureChecks.TryGetHeader(headers, header, out var received))
        {
            return VerificationResult.Invalid(GenericReasons.MissingSignature);
        }

        var keys = SignatureChecks.Utf8Keys(secrets);
        if (keys.Count == 0)
        {
            return VerificationResult.Invalid(GenericReasons.NotConfigured, StatusCodes.Status404NotFound);
        }

        if (!SignatureChecks.TryDecodeHex(received, prefix, out var digest))
        {
            return VerificationResult.Invalid(GenericReasons.MalformedSignature);
        }

        return SignatureChecks.AnyMatch(keys, [], body, [digest])
            ? VerificationResult.Valid(scheme)
            : VerificationResult.Invalid(GenericReasons.SignatureMismatch);
    }
}
