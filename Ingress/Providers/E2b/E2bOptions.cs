namespace Pipeline.Ingress.Providers.E2b;

/// <summary><c>Providers:E2b</c>: the signing secrets, and <c>E2B_WEBHOOK_SECRET</c>, the variable the seeds use.</summary>
public sealed class E2bOptions : ISecretListOptions
{
    public const string SecretVariable = "E2B_WEBHOOK_SECRET";

    public static string Section => "Providers:E2b";
    public static IReadOnlyList<string> SecretVariables { get; } = [SecretVariable];

    public List<string> Secrets { get; set; } = [];
}
