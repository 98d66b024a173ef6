using Microsoft.Extensions.Options;
using Pipeline.Hosting;

namespace Pipeline.Consumers.Credits;

/// <summary>
/// <c>Authorization: Bearer &lt;admin key&gt;</c> for top-ups, checked against <see cref="CreditsOptions.AdminApiKeys"/>
/// (<c>ADMIN_API_KEY</c>, <c>Credits:AdminApiKey</c>, or the list for rotation) by the shared <see cref="AdminKey.Check"/>:
/// no key configured → 503 (the action is off, not open); a wrong or missing key → 401; too many of those from one
/// address → 429.
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

        return AdminKey.Check(request.HttpContext, keys);
    }
}
