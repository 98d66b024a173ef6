using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Access;
using Pipeline.Hosting.Settings;
using Prometheus;

namespace Pipeline.Hosting;

/// <summary><c>Admin:ApiKey</c> (or <c>ADMIN_API_KEY</c>): the bearer key every admin endpoint requires.</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";
    public const string KeyVariable = "ADMIN_API_KEY";
    public const int MinimumKeyLength = 16;

    public string? ApiKey { get; set; }
}

/// <summary><c>Admin:FailedAttemptsPerMinute</c>: how many wrong or missing admin keys one client address may send.</summary>
public sealed class AdminAttemptOptions
{
    /// <summary>Failed attempts allowed at once, and given back over a minute; read at start.</summary>
    [Range(1, 10_000)]
    public int FailedAttemptsPerMinute { get; set; } = 10;
}

/// <summary>
/// The admin bearer key check every host shares (Ingress's admin API, Credits' top-ups): compared in constant time
/// whatever the lengths, each refusal logged and counted, and a client address that has failed too often refused with
/// 429 before its key is even compared, so keys cannot be guessed at speed.
/// </summary>
public static partial class AdminKey
{
    private static readonly Counter Refused = Metrics.CreateCounter(
        "pipeline_admin_refused_total", "Admin requests refused, by reason (a fixed set).", "reason");

    public static IServiceCollection AddAdminKey(this IServiceCollection services)
    {
        services.AddOptions<AdminOptions>()
            .BindConfiguration(AdminOptions.Section)
            .PostConfigure<IConfiguration>((o, config) => o.ApiKey ??= config[AdminOptions.KeyVariable])
            .Validate(o => o.ApiKey is null || o.ApiKey.Length >= AdminOptions.MinimumKeyLength,
                $"{AdminOptions.Section}:ApiKey / {AdminOptions.KeyVariable} must be at least {AdminOptions.MinimumKeyLength} characters.")
            .ValidateOnStart()
            .KeepLastValidOnReload();
        return services.AddAdminAttemptLimit();
    }

    /// <summary>The per-address limit on failed attempts (admin keys, and read keys: <c>AddApiAccess</c>).</summary>
    public static IServiceCollection AddAdminAttemptLimit(this IServiceCollection services)
    {
        services.AddOptions<AdminAttemptOptions>().BindConfiguration(AdminOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(sp =>
        {
            var perMinute = sp.GetRequiredService<IOptions<AdminAttemptOptions>>().Value.FailedAttemptsPerMinute;
            return new AdminAttempts(new ClientAddressLimiter(perMinute, 1, TimeSpan.FromMinutes(1) / perMinute));
        });
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
            if (string.IsNullOrEmpty(key))
            {
                Refuse(http, "no admin key configured");
                return Results.Json(new { error = "admin_disabled", message = $"Set {AdminOptions.KeyVariable} to use the admin API." },
                    statusCode: StatusCodes.Status503ServiceUnavailable);
            }

            return Check(http, [key]) ?? await next(context);
        });

    /// <summary>Checks the request's bearer key against <paramref name="keys"/> (any one matches: rotation).</summary>
    /// <returns>null when the request may go on, else the refusal to answer: 429 or 401.</returns>
    public static IResult? Check(HttpContext http, IReadOnlyList<string> keys)
    {
        ArgumentNullException.ThrowIfNull(http);
        var attempts = http.RequestServices.GetRequiredService<AdminAttempts>().Limiter;
        var client = http.Connection.RemoteIpAddress;
        if (attempts.WaitIfExhausted(client) is { } wait)
        {
            Refuse(http, "too many failed attempts");
            http.Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            return Results.Json(new { error = "too_many_attempts", message = "Too many failed admin attempts from this address; retry later." },
                statusCode: StatusCodes.Status429TooManyRequests);
        }

        var given = BearerKeys.From(http.Request) ?? "";
        if (BearerKeys.Matches(given, keys))
        {
            return null;
        }

        attempts.TryAcquire(client);
        Refuse(http, given.Length == 0 ? "missing bearer key" : "wrong bearer key");
        return Results.Json(new { error = "unauthorized", message = "A valid admin bearer key is required." },
            statusCode: StatusCodes.Status401Unauthorized);
    }

    private static void Refuse(HttpContext http, string reason)
    {
        Refused.WithLabels(reason).Inc();
        LogRefused(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Pipeline.Admin"), http.Request.Path, reason);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused admin request to {Path}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string path, string reason);
}

/// <summary>The failed admin attempts of each client address (a singleton, so the counts outlive requests).</summary>
public sealed class AdminAttempts(ClientAddressLimiter limiter) : IDisposable
{
    public ClientAddressLimiter Limiter { get; } = limiter;

    public void Dispose() => Limiter.Dispose();
}
