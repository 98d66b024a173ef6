using Microsoft.Extensions.Options;

namespace Pipeline.Ingress.Providers.NewApi;

/// <summary>
/// <c>Providers:NewApi</c>. Secrets is a list so a new secret can be added before the old one is removed
/// (rotation); <c>NEWAPI_WEBHOOK_SECRET</c> and the seed's <c>WEBHOOK_SECRET</c> are added to it. With no secret at
/// all the provider is disabled (its routes answer 404) and Ingress still starts.
/// </summary>
public sealed class NewApiOptions
{
    public const string Section = "Providers:NewApi";
    public const string SecretVariable = "NEWAPI_WEBHOOK_SECRET";

    /// <summary>The variable the seed's deployments (LetAiCode + the new-api fork) use.</summary>
    public const string SeedSecretVariable = "WEBHOOK_SECRET";

    public const int MinimumSecretLength = 16;

    public List<string> Secrets { get; set; } = [];
}

public sealed class NewApiOptionsSetup(IConfiguration configuration) : IPostConfigureOptions<NewApiOptions>, IValidateOptions<NewApiOptions>
{
    public void PostConfigure(string? name, NewApiOptions options)
    {
        foreach (var variable in new[] { NewApiOptions.SecretVariable, NewApiOptions.SeedSecretVariable })
        {
            var fromEnvironment = configuration[variable];
            if (!string.IsNullOrWhiteSpace(fromEnvironment) && !options.Secrets.Contains(fromEnvironment))
            {
                options.Secrets.Add(fromEnvironment);
            }
        }

        options.Secrets.RemoveAll(string.IsNullOrWhiteSpace);
    }

    public ValidateOptionsResult Validate(string? name, NewApiOptions options)
    {
        var weak = options.Secrets.Count(s => s.Length < NewApiOptions.MinimumSecretLength);
        return weak > 0
            ? ValidateOptionsResult.Fail(
                $"{weak} new-api webhook secret(s) in {NewApiOptions.Section}:Secrets / {NewApiOptions.SecretVariable} / " +
                $"{NewApiOptions.SeedSecretVariable} are shorter than {NewApiOptions.MinimumSecretLength} characters.")
            : ValidateOptionsResult.Success;
    }
}
