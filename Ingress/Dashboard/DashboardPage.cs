using System.Security.Cryptography;
using Pipeline.Ingress.Admin;

namespace Pipeline.Ingress.Dashboard;

/// <summary>
/// GET /dashboard: one HTML page, one script, one stylesheet, embedded in this assembly. The page holds no data
/// and is served without the key; everything it shows comes from /api/admin/*, which requires it.
/// </summary>
public static class DashboardPage
{
    // Only this origin's own script, style and API: no inline code, no third party, no framing.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly Asset Page = Asset.Load("dashboard.html", "text/html; charset=utf-8");
    private static readonly Asset Script = Asset.Load("dashboard.js", "text/javascript; charset=utf-8");
    private static readonly Asset Style = Asset.Load("dashboard.css", "text/css; charset=utf-8");

    /// <summary>The page, its two files and the admin endpoints only it needs.</summary>
    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/dashboard", (HttpContext http) =>
            // The page's links are relative to /dashboard, so /dashboard/ is sent there.
            http.Request.Path.Value!.EndsWith('/') ? Results.Redirect("../dashboard") : Page.Serve(http));
        endpoints.MapGet("/dashboard/dashboard.js", Script.Serve);
        endpoints.MapGet("/dashboard/dashboard.css", Style.Serve);
        endpoints.MapDashboardApi();
        return endpoints;
    }

    private sealed record Asset(byte[] Content, string ContentType, string ETag)
    {
        public static Asset Load(string name, string contentType)
        {
            using var stream = typeof(DashboardPage).Assembly.GetManifestResourceStream("dashboard/" + name)
                ?? throw new InvalidOperationException($"The embedded dashboard file {name} is missing from the build.");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            var content = copy.ToArray();
            return new Asset(content, contentType, $"\"{Convert.ToHexStringLower(SHA256.HashData(content))[..16]}\"");
        }

        public IResult Serve(HttpContext http)
        {
            var headers = http.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.CacheControl = "no-cache";
            headers.ETag = ETag;
            return http.Request.Headers.IfNoneMatch.ToString() == ETag
                ? Results.StatusCode(StatusCodes.Status304NotModified)
                : Results.Bytes(Content, ContentType);
        }
    }
}
