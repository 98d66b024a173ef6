using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Settings;
using Prometheus;

namespace Pipeline.Hosting.Access;

/// <summary>
/// <c>Api:ReadKeys</c>: bearer keys that may read the services' APIs. Any one of them works, so a key rotates by adding
/// the new one, switching the readers, then removing the old one. None: only the admin key reads.
/// </summary>
public sealed class ApiOptions
{
    public const string Section = "Api";
    public const int MinimumKeyLength = 16;

    public List<string> ReadKeys { get; set; } = [];
}

/// <summary>
/// Who may call what, in every host: a bearer read key or the admin key authenticates (scheme <see cref="Scheme"/>),
/// and endpoints opt in with <see cref="RequireReadKey{TBuilder}"/>. Nothing else meets it: there is no default scheme,
/// so only an endpoint with the read policy reads the Authorization header this way.
/// </summary>
public static class ApiAccess
{
    public const string Scheme = "PipelineKey";
    public const string ReadPolicy = "read";
    public const string ReaderRole = "reader";
    public const string AdminRole = "admin";
    private const string SuppressAutoDefaultScheme = "Microsoft.AspNetCore.Authentication.SuppressAutoDefaultScheme";

    public static IServiceCollection AddApiAccess(this IServiceCollection services)
    {
        services.AddAdminKey();
        services.AddOptions<ApiOptions>()
            .BindConfiguration(ApiOptions.Section)
            .PostConfigure(o => o.ReadKeys.RemoveAll(string.IsNullOrWhiteSpace))
            .Validate(o => o.ReadKeys.TrueForAll(k => k.Length >= ApiOptions.MinimumKeyLength),
                $"A read key in {ApiOptions.Section}:{nameof(ApiOptions.ReadKeys)} is shorter than {ApiOptions.MinimumKeyLength} characters.")
            .ValidateOnStart()
            .KeepLastValidOnReload(o => $"{o.ReadKeys.Count} read key(s)");
        // The only scheme would become the default (ASP.NET Core 7+), and every request would be authenticated with it:
        // webhooks carry Authorization headers of their own (LiveKit's JWT, new-api's bearer secret) that are none of
        // its business. This documented switch keeps it to the endpoints whose policy names it.
        AppContext.SetSwitch(SuppressAutoDefaultScheme, true);
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(Scheme, null);
        services.AddAuthorizationBuilder().AddPolicy(ReadPolicy, policy => policy
            .AddAuthenticationSchemes(Scheme)
            .RequireRole(ReaderRole, AdminRole));
        return services;
    }

    /// <summary>401 unless the request carries <c>Authorization: Bearer &lt;read key or admin key&gt;</c>.</summary>
    public static TBuilder RequireReadKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(ReadPolicy);
}

/// <summary>
/// Authenticates a bearer key against <c>Api:ReadKeys</c> (role reader) and the admin key (role admin), as they are
/// now (both reload). A refusal is a short JSON 401, like the admin endpoints'. Failed attempts count against the
/// client address's limit that the admin endpoints keep (<c>Admin:FailedAttemptsPerMinute</c>), so that guessing a
/// key here is no faster than there; past it, 429.
/// </summary>
internal sealed partial class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggers,
    UrlEncoder encoder,
    IOptionsMonitor<ApiOptions> api,
    IOptionsMonitor<AdminOptions> admin,
    AdminAttempts attempts)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggers, encoder)
{
    private const string MissingKey = "missing bearer key";
    private const string WrongKey = "wrong bearer key";
    private const string TooManyAttempts = "too many failed attempts";

    private static readonly Counter Refused = Metrics.CreateCounter(
        "pipeline_api_refused_total", "Read API requests refused, by reason (a fixed set).", "reason");

    // Handlers live for one request: how long this client must wait, when it is over its limit.
    private TimeSpan? _retryAfter;

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var client = Context.Connection.RemoteIpAddress;
        if (attempts.Limiter.WaitIfExhausted(client) is { } wait)
        {
            _retryAfter = wait;
            return Task.FromResult(AuthenticateResult.Fail(TooManyAttempts));
        }

        if (BearerKeys.From(Request) is not { } presented)
        {
            attempts.Limiter.TryAcquire(client);
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        // Both lists are always compared, so the time taken does not tell a read key from the admin key.
        var isAdmin = BearerKeys.Matches(presented, [admin.CurrentValue.ApiKey]);
        var isReader = BearerKeys.Matches(presented, api.CurrentValue.ReadKeys);
        if (!isAdmin && !isReader)
        {
            attempts.Limiter.TryAcquire(client);
            return Task.FromResult(AuthenticateResult.Fail(WrongKey));
        }

        var role = isAdmin ? ApiAccess.AdminRole : ApiAccess.ReaderRole;
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, role), new Claim(ClaimTypes.Role, role)], ApiAccess.Scheme);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiAccess.Scheme)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var reason = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message ?? MissingKey;
        Refused.WithLabels(reason).Inc();
        LogRefused(Logger, Request.Path, reason);
        if (_retryAfter is { } wait)
        {
            Response.StatusCode = StatusCodes.Status429TooManyRequests;
            Response.Headers.RetryAfter = Math.Ceiling(wait.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            await Response.WriteAsJsonAsync(new { error = "too_many_attempts", message = "Too many failed attempts from this address; retry later." });
            return;
        }

        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await Response.WriteAsJsonAsync(new { error = "unauthorized", message = "Authorization: Bearer <read key> is missing or wrong." });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused read request to {Path}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string path, string reason);
}
