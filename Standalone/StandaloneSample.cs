using System.Security.Cryptography;
using Pipeline.Hosting.Access;
using Pipeline.Hosting.Management;
using Pipeline.Ingress.Providers.E2b;

namespace Pipeline.Standalone;

/// <summary>Makes the embedded run work with no set-up and tells the newcomer how to send a first event and read it back.</summary>
public sealed class StandaloneSample
{
    private readonly string? _generatedSecret;
    private readonly string? _generatedReadKey;

    private StandaloneSample(string? generatedSecret, string? generatedReadKey)
    {
        _generatedSecret = generatedSecret;
        _generatedReadKey = generatedReadKey;
    }

    /// <summary>
    /// Without a configured E2B secret or read key, generates one for this run (never a fixed, published value).
    /// </summary>
    public static StandaloneSample EnsureSecrets(ConfigurationManager configuration)
    {
        string? secret = null;
        if (string.IsNullOrWhiteSpace(configuration[E2bOptions.SecretVariable]) &&
            string.IsNullOrWhiteSpace(configuration[$"{E2bOptions.Section}:Secrets:0"]))
        {
            secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            configuration[$"{E2bOptions.Section}:Secrets:0"] = secret;
        }

        string? readKey = null;
        var readKeys = $"{ApiOptions.Section}:{nameof(ApiOptions.ReadKeys)}";
        if (configuration.GetSection(readKeys).GetChildren().All(k => string.IsNullOrWhiteSpace(k.Value)))
        {
            readKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
            configuration[$"{readKeys}:0"] = readKey;
        }

        return new StandaloneSample(secret, readKey);
    }

    public void PrintWelcome(ListenerAddresses addresses)
    {
        var url = Loopback(addresses.PublicUrls[0]);
        var management = Loopback(addresses.ManagementUrls[0]);
        var secretLine = _generatedSecret is null
            ? "SECRET=\"$E2B_WEBHOOK_SECRET\"   # the secret you configured"
            : $"SECRET={_generatedSecret}   # generated for this run; set E2B_WEBHOOK_SECRET to choose your own";
        var readKeyLine = _generatedReadKey is null
            ? "READ_KEY=...   # one of your Api:ReadKeys, or ADMIN_API_KEY"
            : $"READ_KEY={_generatedReadKey}   # generated for this run; set Api__ReadKeys__0 to choose your own";
        Console.WriteLine($$"""

            Pipeline standalone is running at {{url}} (SQLite in ./data, in-memory bus: not durable across a crash).
            Send a signed E2B event:

              {{secretLine}}
              BODY='{"eventCategory":"lifecycle","eventLabel":"create","sandboxId":"sbx-demo-1","sandboxTeamId":"team-1","sandboxTemplateId":"base","timestamp":"'$(date -u +%Y-%m-%dT%H:%M:%S.000Z)'"}'
              SIG=$(printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | cut -d' ' -f2)
              curl -s {{url}}/webhooks/e2b -H 'Content-Type: application/json' -H "X-E2B-Signature: $SIG" -d "$BODY"

            Then read the state (the read APIs need a bearer read key):

              {{readKeyLine}}
              curl -s {{url}}/api/sandboxes/sbx-demo-1 -H "Authorization: Bearer $READ_KEY"
              curl -s '{{url}}/api/sandboxes?state=running' -H "Authorization: Bearer $READ_KEY"

            Health and metrics, on the management port only:   {{management}}/health/ready   {{management}}/metrics

            """);
    }

    // A wildcard host is reachable on loopback; the welcome shows a URL that can be pasted.
    private static string Loopback(string url) => url.Replace("://+:", "://localhost:", StringComparison.Ordinal)
        .Replace("://*:", "://localhost:", StringComparison.Ordinal).Replace("://0.0.0.0:", "://localhost:", StringComparison.Ordinal);
}
