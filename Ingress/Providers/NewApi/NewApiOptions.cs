namespace Pipeline.Ingress.Providers.NewApi;

/// <summary>
/// <c>Providers:NewApi</c>: the webhook secrets, and <c>NEWAPI_WEBHOOK_SECRET</c> and <c>WEBHOOK_SECRET</c>, the variable
/// the seed's deployments (LetAiCode + the new-api fork) use.
/// </summary>
public sealed class NewApiOptions : ISecretListOptions
{
    public const string SecretVariable = "NEWAPI_WEBHOOK_SECRET";
    public const string SeedSecretVariable = "WEBHOOK_SECRET";

    public static string Section => "Providers:NewApi";
    public static IReadOnlyList<string> SecretVariables { get; } = [SecretVariable, SeedSecretVariable];

    public List<string> Secrets { get; set; } = [];
}
