using Microsoft.Extensions.Options;

namespace Pipeline.Ingress.Providers;

/// <summary>
/// The options of a provider that signs with shared secrets: a list, so a new secret can be added before the old one is
/// removed (rotation), completed from the provider's environment variables. No secret at all leaves the provider
/// disabled (its routes answer 404) and Ingress still starts.
/// </summary>
public interface ISecretListOptions
{
    static abstract string Section { get; }

    /// <summary>The variables whose values join <see cref="Secrets"/>, the provider's own first.</summary>
    static abstract IReadOnlyList<string> SecretVariables { get; }

    List<string> Secrets { get; }
}

public sealed class SecretListOptionsSetup<TOptions>(IConfiguration configuration) : IPostConfigureOptions<TOptions>, IValidateOptions<TOptions>
    where TOptions : class, ISecretListOptions
{
    public const int MinimumSecretLength = 16;

    /// <summary>Where a secret is set, for messages: "NEWAPI_WEBHOOK_SECRET (or WEBHOOK_SECRET, Providers:NewApi:Secrets)".</summary>
    public static string Settings => $"{TOptions.SecretVariables[0]} (or {string.Join(", ", [.. TOptions.SecretVariables.Skip(1), $"{TOptions.Section}:Secrets"])})";

    public void PostConfigure(string? name, TOptions options)
    {
        foreach (var variable in TOptions.SecretVariables)
        {
            var fromEnvironment = configuration[variable];
            if (!string.IsNullOrWhiteSpace(fromEnvironment) && !options.Secrets.Contains(fromEnvironment))
            {
                options.Secrets.Add(fromEnvironment);
            }
        }

        options.Secrets.RemoveAll(string.IsNullOrWhiteSpace);
    }

    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        var weak = options.Secrets.Count(s => s.Length < MinimumSecretLength);
        return weak > 0
            ? ValidateOptionsResult.Fail($"{weak} signing secret(s) in {Settings} are shorter than {MinimumSecretLength} characters.")
            : ValidateOptionsResult.Success;
    }
}
