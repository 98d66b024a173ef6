using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Pipeline.Hosting.Access;

/// <summary>Bearer keys: reading one from a request and comparing it with the configured ones.</summary>
public static class BearerKeys
{
    /// <summary>The key of <c>Authorization: Bearer &lt;key&gt;</c> (scheme in any case), or null when there is none.</summary>
    public static string? From(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString().Trim();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var key = header["Bearer ".Length..].Trim();
        return key.Length == 0 ? null : key;
    }

    /// <summary>
    /// Whether <paramref name="presented"/> is one of <paramref name="keys"/>. Both sides are hashed first, so the time
    /// taken tells nothing of a key's length or of how much of it matched, and every key is compared, so it tells
    /// nothing of which one matched either.
    /// </summary>
    public static bool Matches(string presented, IEnumerable<string?> keys)
    {
        ArgumentNullException.ThrowIfNull(presented);
        ArgumentNullException.ThrowIfNull(keys);
        Span<byte> given = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), given);
        var matched = false;
        foreach (var key in keys)
        {
            if (string.IsNullOrEmpty(key))
            {
                continue;
            }

            SHA256.HashData(Encoding.UTF8.GetBytes(key), expected);
            matched |= CryptographicOperations.FixedTimeEquals(given, expected);
        }

        return matched;
    }
}
