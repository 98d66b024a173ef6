using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Pipeline.Consumers.Credits;

/// <summary>
/// <c>Authorization: Bearer &lt;admin key&gt;</c> for top-ups, checked against <see cref="CreditsOptions.AdminApiKeys"/>
/// (<c>ADMIN_API_KEY</c>, <c>Credits:AdminApiKey</c>, or the list for rotation). Same answers as the shared admin
/// filter: no key configured → 503 (the action is off, not open); a wrong or missing key → 401.
/// </summary>
public static class CreditsAdminKey
{
    /// <returns>null when the request may proceed, else the refusal to answer.</returns>
    public static IResult? Check(HttpRequest request)
    {
        var keys = request.HttpContext.RequestServices.GetRequiredService<IOptionsMonitor<CreditsOptions>>().CurrentValue.AdminApiKeys;
        if (keys.Count == 0)
        {
            return Results.Json(new { error = "admin_key_not_configured", message = "admin key not configured: set ADMIN_API_KEY or Credits:AdminApiKey." },
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }

        var authorization = request.Headers.Authorization.ToString().Trim();
        if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || !Matches(authorization["Bearer ".Length..].Trim(), keys))
        {
            return Results.Json(new { error = "unauthorized", message = "Authorization: Bearer <admin key> is missing or wrong." },
                statusCode: StatusCodes.Status401Unauthorized);
        }

        return null;
    }

    // Hashed first so the comparison takes the same time whatever the lengths; every key is compared (rotation).
    private static bool Matches(string presented, IReadOnlyList<string> keys)
    {
        Span<byte> given = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), given);
        var matched = false;
        foreach (var key in keys)
        {
            SHA256.HashData(Encoding.UTF8.GetBytes(key), expected);
            matched |= CryptographicOperations.FixedTimeEquals(given, expected);
        }

        return matched && presented.Length > 0;
    }
}
