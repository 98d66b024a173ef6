using System.Security.Cryptography;
using Pipeline.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Ops;

/// <summary>
/// pipeline-ops send-test against a running Ingress that has every provider configured and one source per scheme:
/// each sample is accepted (exit 0) and leaves a receipt; a wrong secret is refused (exit 1); a missing one is a
/// usage error (exit 2) that names the option and the variable.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class SendTestEventTests(TestServices services, ITestOutputHelper output)
{
    private static readonly string[] Schemes = ["standard-webhooks", "hmac-sha256", "github", "stripe", "slack", "token"];

    private static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    private static string SourceSecret(string scheme) =>
        scheme == "standard-webhooks" ? "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)) : NewSecret();

    [Fact]
    public async Task Every_provider_and_source_scheme_accepts_its_signed_test_event()
    {
        var liveKitKey = "APItest" + RandomNumberGenerator.GetHexString(6);
        var liveKitSecret = NewSecret();
        var newApiSecret = NewSecret();
        var sourceSecrets = Schemes.ToDictionary(s => s, SourceSecret);
        var environment = new Dictionary<string, string>
        {
            ["LIVEKIT_API_KEY"] = liveKitKey,
            ["LIVEKIT_API_SECRET"] = liveKitSecret,
            ["NEWAPI_WEBHOOK_SECRET"] = newApiSecret,
        };
        foreach (var (scheme, secret) in sourceSecrets)
        {
            environment[$"Sources__src-{scheme}__Scheme"] = scheme;
            environment[$"Sources__src-{scheme}__Secrets__0"] = secret;
        }

        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions { Consumers = [], IngressEnvironment = environment });
        var url = pipeline.Ingress.BaseAddress.ToString();
        var noEnvironment = new Dictionary<string, string>
        {
            ["LIVEKIT_API_KEY"] = "", ["LIVEKIT_API_SECRET"] = "", ["NEWAPI_WEBHOOK_SECRET"] = "", ["E2B_WEBHOOK_SECRET"] = "",
        };

        async Task<string> Send(IReadOnlyDictionary<string, string> env, params string[] args)
        {
            var run = await pipeline.RunOpsAsync(env, ["send-test", .. args, "--url", url]);
            output.WriteLine($"send-test {string.Join(' ', args.Take(2))}: exit {run.ExitCode}\n{run.Output}{run.Error}");
            Assert.True(run.ExitCode == 0, $"send-test {string.Join(' ', args)} exited {run.ExitCode}: {run.Output}{run.Error}\n{pipeline.Diagnostics()}");
            Assert.Contains("-> 200 OK", run.Output);
            return run.Output;
        }

        await Send(noEnvironment, "e2b", "create", "--secret", pipeline.Secret);
        // LiveKit's key and secret from LiveKit's own variables, as Ingress reads them.
        await Send(new Dictionary<string, string> { ["LIVEKIT_API_KEY"] = liveKitKey, ["LIVEKIT_API_SECRET"] = liveKitSecret },
            "livekit", "participant_joined", "--room", "ops-room", "--identity", "ops-user");
        await Send(noEnvironment, "new-api", "consume", "--user", "42", "--quota", "1000", "--request-id", "req-ops-1", "--secret", newApiSecret);
        foreach (var (scheme, secret) in sourceSecrets)
        {
            // Half from options, half from the very variables Ingress was configured with.
            if (scheme is "github" or "slack" or "token")
            {
                await Send(new Dictionary<string, string> { [$"Sources__src-{scheme}__Scheme"] = scheme, [$"Sources__src-{scheme}__Secrets__0"] = secret },
                    "source", $"src-{scheme}");
            }
            else
            {
                await Send(noEnvironment, "source", $"src-{scheme}", "--scheme", scheme, "--secret", secret);
            }
        }

        var receipts = new Dictionary<string, long>();
        foreach (var provider in new[] { "e2b", "livekit", "new-api" }.Concat(Schemes.Select(s => $"src-{s}")))
        {
            receipts[provider] = await pipeline.CountAsync($"""SELECT count(*) FROM ingress_receipts WHERE "Provider" = '{provider}'""");
        }

        Assert.All(receipts, r => Assert.True(r.Value == 1, $"{r.Key}: {r.Value} receipts"));
        Assert.Equal(1, await pipeline.CountAsync("""SELECT count(*) FROM ingress_receipts WHERE "DedupKey" = 'consume:req-ops-1'"""));
        Assert.Equal(receipts.Count, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));

        // A wrong secret is refused by Ingress: exit 1, and nothing recorded.
        var forged = await pipeline.RunOpsAsync(noEnvironment, "send-test", "new-api", "consume", "--secret", NewSecret(), "--url", url);
        Assert.Equal(1, forged.ExitCode);
        Assert.Contains("401", forged.Output);
        var forgedSource = await pipeline.RunOpsAsync(noEnvironment, "send-test", "source", "src-stripe", "--scheme", "stripe", "--secret", NewSecret(), "--url", url);
        Assert.Equal(1, forgedSource.ExitCode);

        // No secret: a usage error naming the option and the variable, and no request sent.
        var missing = await pipeline.RunOpsAsync(noEnvironment, "send-test", "livekit", "room_started", "--url", url);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--api-key", missing.Error);
        Assert.Contains("LIVEKIT_API_KEY", missing.Error);
        var missingNewApi = await pipeline.RunOpsAsync(noEnvironment, "send-test", "new-api", "consume", "--url", url);
        Assert.Equal(2, missingNewApi.ExitCode);
        Assert.Contains("NEWAPI_WEBHOOK_SECRET", missingNewApi.Error);
        var missingSource = await pipeline.RunOpsAsync(noEnvironment, "send-test", "source", "src-github", "--scheme", "github", "--url", url);
        Assert.Equal(2, missingSource.ExitCode);
        Assert.Contains("Sources__src-github__Secrets__0", missingSource.Error);
        Assert.Equal(receipts.Count, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
    }
}
