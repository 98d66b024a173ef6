using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Pipeline.Ingress.Providers.Generic;

/// <summary>The <c>Sources</c> section: one entry per source, answered at <c>POST /webhooks/{name}</c>.</summary>
public sealed class GenericSourcesOptions
{
    public const string Section = "Sources";

    public Dictionary<string, GenericSourceOptions> Sources { get; } = new(StringComparer.Ordinal);

    /// <summary>Values that could not be converted (a Tolerance that is not a TimeSpan, …), reported by validation.</summary>
    internal List<string> BindingErrors { get; } = [];

    /// <summary>
    /// Binds each source on its own: bound as one dictionary, a source with a value that does not convert would
    /// silently vanish (and answer "unknown source") instead of stopping start-up.
    /// </summary>
    public void Bind(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        foreach (var section in configuration.GetSection(Section).GetChildren())
        {
            try
            {
                Sources[section.Key] = section.Get<GenericSourceOptions>() ?? new GenericSourceOptions();
            }
            catch (InvalidOperationException ex)
            {
                BindingErrors.Add(ex.Message);
            }
        }
    }
}

/// <summary><c>Sources:{name}</c>.</summary>
public sealed class GenericSourceOptions
{
    public static readonly TimeSpan DefaultTolerance = TimeSpan.FromMinutes(5);

    /// <summary>One of <see cref="SourceSchemes.All"/>.</summary>
    public string? Scheme { get; set; }

    /// <summary>Any one verifies (rotation). None: the source answers 404 "provider not configured".</summary>
    public List<string> Secrets { get; set; } = [];

    /// <summary>How far a signed timestamp may be from now, either way; default 5 minutes.</summary>
    public TimeSpan? Tolerance { get; set; }

    /// <summary>Overrides <c>Ingress:MaxBodyBytes</c> for this source.</summary>
    public int? MaxBodyBytes { get; set; }

    /// <summary>For the token scheme: the header that carries the token; without it, the <c>?token=</c> query parameter.</summary>
    public string? TokenHeader { get; set; }

    /// <summary>
    /// <c>json</c>: a verified body that is not JSON is answered 400 (the default of every scheme but token, as seed
    /// 004's receiver does); <c>raw</c>: any UTF-8 body is accepted (the token scheme's default).
    /// </summary>
    public string? Format { get; set; }
}

/// <summary>What a source's bodies must be.</summary>
public static class SourceFormats
{
    public const string Json = "json";
    public const string Raw = "raw";

    public static readonly IReadOnlyList<string> All = [Json, Raw];

    /// <summary>The configured format, or the scheme's default (token senders post anything; the others send JSON).</summary>
    public static string? Resolve(string? configured, string scheme) =>
        string.IsNullOrWhiteSpace(configured)
            ? scheme == SourceSchemes.Token ? Raw : Json
            : All.FirstOrDefault(f => string.Equals(f, configured.Trim(), StringComparison.OrdinalIgnoreCase));
}

/// <summary>Start-up (and reload) checks of <c>Sources</c>; every message names the setting at fault, never a secret.</summary>
public sealed partial class GenericSourcesValidator(IConfiguration configuration) : IValidateOptions<GenericSourcesOptions>
{
    public const int MinimumSecretLength = 16;
    public const int MinimumKeyBytes = 16;
    public const int MinBodyBytes = 1024;
    public const int MaxBodyBytes = 16 * 1024 * 1024;
    public static readonly TimeSpan MaxTolerance = TimeSpan.FromHours(1);

    /// <summary>Names taken by the built-in providers' own routes (/webhooks/e2b, …), which a source could never receive.</summary>
    public static readonly IReadOnlyList<string> ReservedNames = ["e2b", "livekit", "new-api"];

    private static readonly string[] KnownSettings =
        [nameof(GenericSourceOptions.Scheme), nameof(GenericSourceOptions.Secrets), nameof(GenericSourceOptions.Tolerance),
         nameof(GenericSourceOptions.MaxBodyBytes), nameof(GenericSourceOptions.TokenHeader), nameof(GenericSourceOptions.Format)];

    public ValidateOptionsResult Validate(string? name, GenericSourcesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>(options.BindingErrors);
        foreach (var (source, settings) in options.Sources)
        {
            Validate(source, settings, failures);
        }

        // A misspelt key (Secret, Schema, …) would otherwise leave a source silently disabled.
        foreach (var section in configuration.GetSection(GenericSourcesOptions.Section).GetChildren())
        {
            foreach (var setting in section.GetChildren())
            {
                if (!KnownSettings.Contains(setting.Key, StringComparer.OrdinalIgnoreCase))
                {
                    failures.Add($"{Key(section.Key, setting.Key)} is not a setting of a source (known: {string.Join(", ", KnownSettings)}).");
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Validate(string source, GenericSourceOptions settings, List<string> failures)
    {
        if (!NamePattern().IsMatch(source))
        {
            failures.Add($"{GenericSourcesOptions.Section}:{source}: a source name is 1 to 64 characters of a-z, 0-9 and '-', starting with a letter or digit.");
        }
        else if (ReservedNames.Contains(source))
        {
            failures.Add($"{GenericSourcesOptions.Section}:{source}: '{source}' is reserved for the built-in provider of the same name; choose another source name.");
        }

        var scheme = SourceSchemes.Find(settings.Scheme);
        if (string.IsNullOrWhiteSpace(settings.Scheme))
        {
            failures.Add($"{Key(source, "Scheme")} is required: one of {string.Join(", ", SourceSchemes.All)}.");
        }
        else if (scheme is null)
        {
            failures.Add($"{Key(source, "Scheme")} '{settings.Scheme}' is not a known scheme: one of {string.Join(", ", SourceSchemes.All)}.");
        }

        for (var i = 0; i < settings.Secrets.Count; i++)
        {
            var secret = settings.Secrets[i];
            if (string.IsNullOrWhiteSpace(secret))
            {
                continue;
            }

            if (scheme == SourceSchemes.StandardWebhooks)
            {
                if (!StandardWebhooksVerifier.TryDecodeSecret(secret, out var key))
                {
                    failures.Add($"{Key(source, $"Secrets:{i}")} is not a standard-webhooks secret: expected whsec_ followed by Base64 (at most {StandardWebhooksVerifier.MaxKeyBytes} bytes).");
                }
                else if (key.Length < MinimumKeyBytes)
                {
                    failures.Add($"{Key(source, $"Secrets:{i}")} decodes to a {key.Length}-byte key; a standard-webhooks key must be at least {MinimumKeyBytes} bytes.");
                }
            }
            else if (secret.Length < MinimumSecretLength)
            {
                failures.Add($"{Key(source, $"Secrets:{i}")} is shorter than {MinimumSecretLength} characters.");
            }
        }

        if (settings.Tolerance is { } tolerance && (tolerance <= TimeSpan.Zero || tolerance > MaxTolerance))
        {
            failures.Add($"{Key(source, "Tolerance")} must be more than zero and at most {MaxTolerance:c} (a TimeSpan such as 00:05:00).");
        }

        if (settings.MaxBodyBytes is { } max && (max < MinBodyBytes || max > MaxBodyBytes))
        {
            failures.Add($"{Key(source, "MaxBodyBytes")} must be between {MinBodyBytes} and {MaxBodyBytes}.");
        }

        if (scheme is not null && SourceFormats.Resolve(settings.Format, scheme) is null)
        {
            failures.Add($"{Key(source, "Format")} '{settings.Format}' is not a body format: one of {string.Join(", ", SourceFormats.All)}.");
        }

        if (settings.TokenHeader is { } header)
        {
            if (scheme is not null && scheme != SourceSchemes.Token)
            {
                failures.Add($"{Key(source, "TokenHeader")} applies only to the token scheme, not {scheme}.");
            }
            else if (!HeaderNamePattern().IsMatch(header))
            {
                failures.Add($"{Key(source, "TokenHeader")} is not a valid HTTP header name.");
            }
        }
    }

    private static string Key(string source, string setting) => $"{GenericSourcesOptions.Section}:{source}:{setting}";

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}\\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    // RFC 9110 token characters.
    [GeneratedRegex(@"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex HeaderNamePattern();
}
