using Microsoft.Extensions.Options;

namespace Pipeline.Ingress.Providers.E2b;

/// <summary>
/// <c>Providers:E2b</c>. Secrets is a list so a new secret can be added before the old one is removed
/// (rotation); <c>E2B_WEBHOOK_SECRET</c>, the variable the seeds use, is added to it. No secret: E2B is off.
/// </summary>
public sealed class E2bOptions
{
    public const string Section = "Providers:E2b";
    public const string SecretVariable = "E2B_WEBHOOK_SECRET";
    public const int MinimumSecretLength = 16;

    public List<string> Secrets { get; set; } = [];
}

public sealed class E2bOptionsSetup(IConfiguration configuration) : IPostConfigureOptions<E2bOptions>, IValidateOptions<E2bOptions>
{
    public void PostConfigure(string? name, E2bOptions options)
    {
        var fromEnvironment = configuration[E2bOptions.SecretVariable];
        if (!string.IsNullOrWhiteSpace(fromEnvironment) && !options.Secrets.Contains(fromEnvironment))
        {
            options.Secrets.Add(fromEnvironment);
        }

        options.Secrets.RemoveAll(string.IsNullOrWhiteSpace);
    }

    public ValidateOptionsResult Validate(string? name, E2bOptions options)
    {
        // No secret: the provider is off and its endpoint answers 404, so a deployment need not use E2B.
        var weak = options.Secrets.Count(s => s.Length < E2bOptions.MinimumSecretLength);
        return weak > 0
            ? ValidateOptionsResult.Fail(
                $"{weak} E2B signing secret(s) in {E2bOptions.Section}:Secrets / {E2bOptions.SecretVariable} are shorter than {E2bOptions.MinimumSecretLength} characters.")
            : ValidateOptionsResult.Success;
    }
}
