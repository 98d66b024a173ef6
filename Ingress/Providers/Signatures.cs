using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Runtime.CompilerServices;
using System.Text;

namespace Pipeline.Ingress.Providers;

/// <summary>
/// What every signature scheme shares: reading headers, decoding digests as senders spell them, computing and comparing
/// over a rotating list of secrets in constant time, and timestamp tolerance. A value that does not decode is refused,
/// never thrown on.
/// </summary>
public static class Signatures
{
    public const int DigestSize = SHA256.HashSizeInBytes;

    /// <summary>The common spelling of a hex digest's prefix (GitHub, the agent platform, new-api).</summary>
    public const string Sha256Prefix = "sha256=";

    // Generous bound on Base64 we are willing to decode on the stack.
    private const int MaxStackBase64Chars = 256;

    // Unix seconds DateTimeOffset can represent (years 0001 to 9999).
    private const long MinUnixSeconds = -62_135_596_800;
    private const long MaxUnixSeconds = WireJson.MaxUnixSeconds;

    /// <summary>
    /// The first value of a header, trimmed. A header without a non-blank value counts as absent, unless
    /// <paramref name="blankIsPresent"/>: then a blank one is there, to be refused as malformed (E2B's headers).
    /// A repeated header is taken at its first value, which then has to verify on its own.
    /// </summary>
    public static bool TryGetHeader(IHeaderDictionary headers, string name, out string value, bool blankIsPresent = false)
    {
        if (headers.TryGetValue(name, out var values) && values.Count > 0 && values[0] is { } first
            && (blankIsPresent || !string.IsNullOrWhiteSpace(first)))
        {
            value = first.Trim();
            return true;
        }

        value = "";
        return false;
    }

    /// <summary>
    /// The secrets as keys (their UTF-8 bytes); blank entries are skipped, so an empty key never signs anything. Encoded
    /// once per list: settings are reloaded as new lists, never changed in place, and the keys are only read.
    /// </summary>
    public static byte[][] Utf8Keys(IReadOnlyList<string> secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        return EncodedKeys.GetValue(secrets, Encode);
    }

    private static readonly ConditionalWeakTable<IReadOnlyList<string>, byte[][]> EncodedKeys = new();

    private static byte[][] Encode(IReadOnlyList<string> secrets)
    {
        var count = 0;
        foreach (var secret in secrets)
        {
            count += string.IsNullOrWhiteSpace(secret) ? 0 : 1;
        }

        var keys = new byte[count][];
        count = 0;
        foreach (var secret in secrets)
        {
            if (!string.IsNullOrWhiteSpace(secret))
            {
                keys[count++] = Encoding.UTF8.GetBytes(secret);
            }
        }

        return keys;
    }

    /// <summary>
    /// True when HMAC-SHA256(key, prefix ++ body) equals one of <paramref name="candidates"/> for one of the keys.
    /// Every key and every candidate is compared, with no early exit, so the time taken does not say which matched.
    /// </summary>
    public static bool AnyHmacSha256(IReadOnlyList<byte[]> keys, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> body, IReadOnlyList<byte[]> candidates)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(candidates);
        Span<byte> computed = stackalloc byte[DigestSize];
        var matched = false;
        try
        {
            foreach (var key in keys)
            {
                if (prefix.IsEmpty)
                {
                    HMACSHA256.HashData(key, body, computed);
                }
                else
                {
                    using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
                    hmac.AppendData(prefix);
                    hmac.AppendData(body);
                    hmac.GetHashAndReset(computed);
                }

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

    /// <summary>
    /// True when SHA-256(key ++ body), a keyed hash that is not an HMAC, equals <paramref name="expected"/> for one of
    /// the keys; compared in constant time as <see cref="AnyHmacSha256"/> is.
    /// </summary>
    public static bool AnySha256OfKeyAndBody(IReadOnlyList<byte[]> keys, ReadOnlySpan<byte> body, ReadOnlySpan<byte> expected)
    {
        ArgumentNullException.ThrowIfNull(keys);
        Span<byte> computed = stackalloc byte[DigestSize];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var matched = false;
        try
        {
            foreach (var key in keys)
            {
                hash.AppendData(key);
                hash.AppendData(body);
                hash.GetHashAndReset(computed);
                matched |= CryptographicOperations.FixedTimeEquals(computed, expected);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(computed);
        }

        return matched;
    }

    /// <summary>A 64-character hex SHA-256 digest, lower- or upper-case, optionally behind <paramref name="prefix"/>.</summary>
    public static bool TryDecodeHexDigest(ReadOnlySpan<char> value, string? prefix, [NotNullWhen(true)] out byte[]? digest)
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

    /// <summary>Base64 (with <paramref name="urlSafe"/>, the URL-safe alphabet too), padded or not, of exactly one SHA-256 digest.</summary>
    public static bool TryDecodeBase64Digest(ReadOnlySpan<char> value, bool urlSafe, [NotNullWhen(true)] out byte[]? digest)
    {
        digest = TryDecodeBase64(value, DigestSize, urlSafe) is { Length: DigestSize } bytes ? bytes : null;
        return digest is not null;
    }

    /// <summary>
    /// Base64 with or without its padding (with <paramref name="urlSafe"/>, '-' and '_' read as '+' and '/'); null
    /// when it is not Base64 or decodes to more than <paramref name="maxBytes"/>.
    /// </summary>
    public static byte[]? TryDecodeBase64(ReadOnlySpan<char> value, int maxBytes, bool urlSafe = false)
    {
        var text = value.Trim().TrimEnd('=');
        if (text.IsEmpty || text.Length % 4 == 1 || text.Length > (maxBytes + 2) / 3 * 4)
        {
            return null;
        }

        var paddedLength = (text.Length + 3) / 4 * 4;
        Span<char> padded = paddedLength <= MaxStackBase64Chars ? stackalloc char[paddedLength] : new char[paddedLength];
        for (var i = 0; i < text.Length; i++)
        {
            padded[i] = urlSafe ? text[i] switch { '-' => '+', '_' => '/', var c => c } : text[i];
        }

        padded[text.Length..].Fill('=');
        var bytes = new byte[paddedLength / 4 * 3];
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

/// <summary>The outcome of checking a hex HMAC-SHA256 of the body alone; each scheme words its own reasons.</summary>
public enum BodySignatureCheck
{
    Match,
    Mismatch,
    Malformed,
}

/// <summary>
/// A hex HMAC-SHA256 of the body alone, optionally behind <c>sha256=</c>: the generic <c>hmac-sha256</c> scheme, GitHub
/// and new-api all sign this way.
/// </summary>
public static class HexBodySignature
{
    public static BodySignatureCheck Check(ReadOnlySpan<byte> body, string received, IReadOnlyList<byte[]> keys) =>
        !Signatures.TryDecodeHexDigest(received, Signatures.Sha256Prefix, out var digest) ? BodySignatureCheck.Malformed
        : Signatures.AnyHmacSha256(keys, [], body, [digest]) ? BodySignatureCheck.Match
        : BodySignatureCheck.Mismatch;
}
