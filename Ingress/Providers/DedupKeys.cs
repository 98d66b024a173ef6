using System.Security.Cryptography;
using System.Text;
using Pipeline.Persistence;

namespace Pipeline.Ingress.Providers;

/// <summary>The receipt's dedup key: the sender's event id where it gives one, else a hash of the body.</summary>
public static class DedupKeys
{
    /// <summary>The key of a body whose sender gives no event id.</summary>
    public static string ForBody(ReadOnlySpan<byte> rawBody)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(rawBody, digest);
        return "sha256:" + Convert.ToHexStringLower(digest);
    }

    /// <summary>
    /// The id itself, or its SHA-256 when it is longer than <paramref name="maxLength"/> (the receipt's column, or a
    /// shorter column downstream that stores the id too): still one key per id, and one that always fits.
    /// </summary>
    public static string ForId(string id, int maxLength = ColumnLengths.DedupKey)
    {
        ArgumentNullException.ThrowIfNull(id);
        return id.Length <= maxLength ? id : "id-sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)));
    }

    /// <summary>The id when there is one, else the body's hash.</summary>
    public static string For(string? id, ReadOnlySpan<byte> rawBody, int maxLength = ColumnLengths.DedupKey) =>
        string.IsNullOrWhiteSpace(id) ? ForBody(rawBody) : ForId(id, maxLength);
}
