using Microsoft.Extensions.Options;

namespace Pipeline.Ingress.Providers.LiveKit;

/// <summary>
/// <c>Providers:LiveKit</c>. Keys maps an API key (the token's <c>iss</c>) to its secret; several keys may be
/// configured at once, which is how LiveKit keys are rotated. <c>LIVEKIT_API_KEY</c> + <c>LIVEKIT_API_SECRET</c>,
/// LiveKit's own variables, add one more pair (and win over a map entry with the same key). No key at all leaves
/// the provider disabled.
/// </summary>
public sealed class LiveKitOptions
{
    public const string Section = "Providers:LiveKit";
    public const string ApiKeyVariable = "LIVEKIT_API_KEY";
    public const string ApiSecretVariable = "LIVEKIT_API_SECRET";
    public const int MinimumSecretLength = 16;

    /// <summary>LiveKit signs with a 5 minute lifetime; a skew beyond that would accept any replay within the hour.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public Dictionary<string, string> Keys { get; set; } = new(StringComparer.Ordinal);

    /// <summary>LiveKit's own token lifetime: a shorter maximum would refuse its genuine webhooks.</summary>
    public static readonly TimeSpan MinTokenLifetime = TimeSpan.FromMinutes(5);

    public static readonly TimeSpan MaxAllowedTokenLifetime = TimeSpan.FromDays(1);

    public static readonly TimeSpan DefaultMaxTokenLifetime = TimeSpan.FromHours(1);

    /// <summary>How far the sender's clock may be off when <c>nbf</c> and <c>exp</c> are checked.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The longest a token may be valid for (<c>exp</c> − <c>nbf</c>): a captured token stays replayable for its whole
    /// lifetime, so one valid for a year is refused even while it is current.
    /// </summary>
    public TimeSpan MaxTokenLifetime { get; set; } = DefaultMaxTokenLifetime;
}

public sealed class LiveKitOptionsSetup(IConfiguration configuration) : IPostConfigureOptions<LiveKitOptions>, IValidateOptions<LiveKitOptions>
{
    public void PostConfigure(string? name, LiveKitOptions options)
    {
        // The binder may have replaced the dictionary with one that ignores case; API keys are compared exactly.
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, secret) in options.Keys)
        {
            if (!string.IsNullOrWhiteSpace(key) && !string.IsNullOrWhiteSpace(secret))
            {
                keys[key.Trim()] = secret;
            }
        }

        var apiKey = configuration[LiveKitOptions.ApiKeyVariable];
        var apiSecret = configuration[LiveKitOptions.ApiSecretVariable];
        if (!string.IsNullOrWhiteSpace(apiKey) && !string.IsNullOrWhiteSpace(apiSecret))
        {
            keys[apiKey.Trim()] = apiSecret;
        }

        options.Keys = keys;
    }

    public ValidateOptionsResult Validate(string? name, LiveKitOptions options)
    {
        var failures = new List<string>();
        var hasKey = !string.IsNullOrWhiteSpace(configuration[LiveKitOptions.ApiKeyVariable]);
        var hasSecret = !string.IsNullOrWhiteSpace(configuration[LiveKitOptions.ApiSecretVariable]);
        if (hasKey != hasSecret)
        {
            failures.Add(hasKey
                ? $"{LiveKitOptions.ApiKeyVariable} is set but {LiveKitOptions.ApiSecretVariable} is not."
                : $"{LiveKitOptions.ApiSecretVariable} is set but {LiveKitOptions.ApiKeyVariable} is not.");
        }

        foreach (var (key, secret) in options.Keys)
        {
            if (secret.Length < LiveKitOptions.MinimumSecretLength)
            {
                failures.Add(
                    $"The LiveKit secret of API key '{key}' ({LiveKitOptions.Section}:Keys:{key} or {LiveKitOptions.ApiSecretVariable}) " +
                    $"is shorter than {LiveKitOptions.MinimumSecretLength} characters.");
            }
        }

        if (options.ClockSkew < TimeSpan.Zero || options.ClockSkew > LiveKitOptions.MaxClockSkew)
        {
            failures.Add($"{LiveKitOptions.Section}:ClockSkew must be between 00:00:00 and {LiveKitOptions.MaxClockSkew:c}.");
        }

        if (options.MaxTokenLifetime < LiveKitOptions.MinTokenLifetime || options.MaxTokenLifetime > LiveKitOptions.MaxAllowedTokenLifetime)
        {
            failures.Add($"{LiveKitOptions.Section}:MaxTokenLifetime must be between {LiveKitOptions.MinTokenLifetime:c} (LiveKit's own token lifetime) " +
                         $"and {LiveKitOptions.MaxAllowedTokenLifetime:c}.");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
