using System.Security.Cryptography;
using Pipeline.Ingress.Providers.E2b;

namespace Pipeline.Standalone;

/// <summary>Makes the embedded run work with no set-up and tells the newcomer how to send a first event.</summary>
public sealed class StandaloneSample
{
    private readonly string? _generatedSecret;

    private StandaloneSample(string? generatedSecret) => _generatedSecret = generatedSecret;

    /// <summary>Without a configured E2B secret, generates one for this run (never a fixed, published value).</summary>
    public static StandaloneSample EnsureSecret(ConfigurationManager configuration)
    {
        if (!string.IsNullOrWhiteSpace(configuration[E2bOptions.SecretVariable]) ||
            !string.IsNullOrWhiteSpace(configuration[$"{E2bOptions.Section}:Secrets:0"]))
        {
            return new StandaloneSample(null);
        }

        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        configuration[$"{E2bOptions.Section}:Secrets:0"] = secret;
        return new StandaloneSample(secret);
    }

    public void PrintWelcome(WebApplication app)
    {
        var url = app.Urls.FirstOrDefault() ?? "http://localhost:5080";
        var secretLine = _generatedSecret is null
            ? "SECRET=\"$E2B_WEBHOOK_SECRET\"   # the secret you configured"
            : $"SECRET={_generatedSecret}   # generated for this run; set E2B_WEBHOOK_SECRET to choose your own";
        Console.WriteLine($$"""

            Pipeline standalone is running at {{url}} (SQLite in ./data, in-memory bus: not durable across a crash).
            Send a signed E2B event:

              {{secretLine}}
              BODY='{"eventCategory":"lifecycle","eventLabel":"create","sandboxId":"sbx-demo-1","sandboxTeamId":"team-1","sandboxTemplateId":"base","timestamp":"'$(date -u +%Y-%m-%dT%H:%M:%S.000Z)'"}'
              SIG=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | cut -d' ' -f2)
              curl -s {{url}}/webhooks/e2b -H 'Content-Type: application/json' -H "X-E2B-Signature: $SIG" -d "$BODY"

            Then read the state:   curl -s {{url}}/api/sandboxes/sbx-demo-1
            Running sandboxes:     curl -s '{{url}}/api/sandboxes?state=running'
            Health and metrics:    {{url}}/health/ready   {{url}}/metrics

            """);
    }
}
