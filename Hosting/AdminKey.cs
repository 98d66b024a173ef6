using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Settings;

namespace Pipeline.Hosting;

/// <summary><c>Admin:ApiKey</c> (or <c>ADMIN_API_KEY</c>): the bearer key every admin endpoint requires.</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";
    public const string KeyVariable = "ADMIN_API_KEY";
    public const int MinimumKeyLength = 16;

    public string? ApiKey { get; set; }
}

public static partial class AdminKey
{
    public static IServiceCollection AddAdminKey(this IServiceCollection services)
    {
        services.AddOptions<AdminOptions>()
            .BindConfiguration(AdminOptions.Section)
            .PostConfigure<IConfiguration>((o, config) => o.ApiKey ??= config[AdminOptions.KeyVariable])
            .Validate(o => o.ApiKey is null || o.ApiKey.Length >= AdminOptions.MinimumKeyLength,
                $"{AdminOptions.Section}:ApiKey / {AdminOptions.KeyVariable} must be at least {AdminOptions.MinimumKeyLength} characters.")
            .ValidateOnStart()
            .KeepLastValidOnReload();
        return services;
    }

    /// <summary>
    /// 401 without the right <c>Authorization: Bearer &lt;key&gt;</c>; 503 when no key is configured, so admin
    /// endpoints are never open by accident.
    /// </summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            var key = http.RequestServices.GetRequiredService<IOptionsMonitor<AdminOptions>>().CurrentValue.ApiKey;
            var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Pipeline.Admin");
            if (string.IsNullOrEmpty(key))
            {
                LogRefused(logger, http.Request.Path, "no admin key configured");
                return Results.Json(new { error = "admin_disabled", message = $"Set {AdminOptions.KeyVariable} to use the admin API." },
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            var header = http.Request.Headers.Authorization.ToString();
            var given = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : "";
            if (!CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(key)))
            {
                LogRefused(logger, http.Request.Path, given.Length == 0 ? "missing bearer key" : "wrong bearer key");
                return Results.Json(new { error = "unauthorized", message = "A valid admin bearer key is required." },
                    statusCode: StatusCodes.Status401Unauthorized);
            }

            return await next(context);
        });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused admin request to {Path}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string path, string reason);
}
