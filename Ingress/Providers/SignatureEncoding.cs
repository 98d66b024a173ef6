using System.Buffers;
using System.Security.Cryptography;

namespace Pipeline.Ingress.Providers;

/// <summary>Decoding a SHA-256 digest as senders spell it; a value that does not decode is refused, never thrown on.</summary>
public static class SignatureEncoding
{
    public const int DigestSize = SHA256.HashSizeInBytes;
    private const int MaxBase64Chars = 128;

    /// <summary>Lower- or upper-case hex, optionally behind a "sha256=" prefix.</summary>
    public static bool TryDecodeHex(string value, Span<byte> destination)
    {
        var hex = value.AsSpan().Trim();
        if (hex.StartsWith("sha256=", StringComparison.OrdinalIgnoreCase))
        {
            hex = hex["sha256=".Length..];
        }

        return hex.Length == DigestSize * 2
            && Convert.FromHexString(hex, destination, out _, out var written) == OperationStatus.Done
            && written == DigestSize;
    }

    /// <summary>Base64 in the standard or URL-safe alphabet, padded or not.</summary>
    public static bool TryDecodeBase64(string value, Span<byte> destination)
    {
        var trimmed = value.AsSpan().Trim().TrimEnd('=');
        if (trimmed.IsEmpty || trimmed.Length > MaxBase64Chars)
        {
            return false;
        }

        Span<char> normalized = stackalloc char[MaxBase64Chars + 3];
        for (var i = 0; i < trimmed.Length; i++)
        {
            normalized[i] = trimmed[i] switch
            {
                '-' => '+',
                '_' => '/',
                var c => c,
            };
        }

        var length = trimmed.Length;
        switch (length % 4)
        {
            case 1:
                return false;
            case 2:
                normalized[length++] = '=';
                normalized[length++] = '=';
                break;
            case 3:
                normalized[length++] = '=';
                break;
        }

        Span<byte> bytes = stackalloc byte[(MaxBase64Chars + 3) / 4 * 3];
        if (!Convert.TryFromBase64Chars(normalized[..length], bytes, out var written) || written != DigestSize)
        {
            return false;
        }

        bytes[..DigestSize].CopyTo(destination);
        return true;
    }
}
