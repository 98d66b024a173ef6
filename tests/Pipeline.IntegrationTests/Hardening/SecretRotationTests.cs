using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pipeline.IntegrationTests.Credits;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.IntegrationTests.Interop;
using Pipeline.IntegrationTests.Rooms;

namespace Pipeline.IntegrationTests.Hardening;

/// <summary>
/// Secrets rotated under a running Ingress, the way an operator does it: files in the secrets directory
/// (PIPELINE_SECRETS_DIR, one key per file as a Kubernetes Secret volume) and the settings file
/// (PIPELINE_SETTINGS_FILE). Every change must take effect in the same process, and a weak secret must be refused.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class SecretRotationTests(TestServices services) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    private readonly string _dir = Directory.CreateTempSubdirectory("pipeline-secrets-").FullName;
    private readonly string _settings = Path.Combine(Directory.CreateTempSubdirectory("pipeline-settings-").FullName, "settings.json");

    private static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    [Fact]
    public async Task Secrets_rotate_without_a_restart_and_a_weak_one_arriving_by_reload_is_refused()
    {
        var (e2bA, e2bB) = (NewSecret(), NewSecret());
        var (newApiA, newApiB) = (NewSecret(), NewSecret());
        var (liveKitA, liveKitB) = (NewSecret(), NewSecret());
        var (sourceA, sourceB) = (NewSecret(), NewSecret());
        WriteSecret("Providers__E2b__Secrets__0", e2bA);
        WriteSecret("NEWAPI_WEBHOOK_SECRET", newApiA); // the plain name the options already read
        WriteSecret("Providers__LiveKit__Keys__APIrotA", liveKitA);
        WriteSettings(sourceA);

        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [],
            IngressEnvironment =
            {
                ["PIPELINE_SECRETS_DIR"] = _dir,
                ["PIPELINE_SETTINGS_FILE"] = _settings,
                ["E2B_WEBHOOK_SECRET"] = "", // the topology's own E2B secret would stay valid through every rotation
            },
        });
        var pid = pipeline.Ingress.ProcessId;

        // 1. Only the A secrets.
        Assert.Equal(HttpStatusCode.OK, await E2bAsync(pipeline, e2bA));
        Assert.Equal(HttpStatusCode.OK, await NewApiAsync(pipeline, newApiA));
        Assert.Equal(HttpStatusCode.OK, await LiveKitAsync(pipeline, "APIrotA", liveKitA));
        Assert.Equal(HttpStatusCode.OK, await SourceAsync(pipeline, sourceA));
        Assert.Equal(HttpStatusCode.Unauthorized, await E2bAsync(pipeline, e2bB));
        Assert.Equal(HttpStatusCode.Unauthorized, await NewApiAsync(pipeline, newApiB));
        Assert.Equal(HttpStatusCode.Unauthorized, await LiveKitAsync(pipeline, "APIrotB", liveKitB));
        Assert.Equal(HttpStatusCode.Unauthorized, await SourceAsync(pipeline, sourceB));

        // 2. The rotation window: A and B both verify.
        WriteSecret("Providers__E2b__Secrets__1", e2bB);
        WriteSecret("Providers__NewApi__Secrets__0", newApiB);
        WriteSecret("Providers__LiveKit__Keys__APIrotB", liveKitB);
        WriteSettings(sourceA, sourceB);
        await WaitForStatusAsync(pipeline, () => E2bAsync(pipeline, e2bB), HttpStatusCode.OK, "E2B secret B to be accepted");
        await WaitForStatusAsync(pipeline, () => NewApiAsync(pipeline, newApiB), HttpStatusCode.OK, "new-api secret B to be accepted");
        await WaitForStatusAsync(pipeline, () => LiveKitAsync(pipeline, "APIrotB", liveKitB), HttpStatusCode.OK, "LiveKit key B to be accepted");
        await WaitForStatusAsync(pipeline, () => SourceAsync(pipeline, sourceB), HttpStatusCode.OK, "source secret B to be accepted");
        Assert.Equal(HttpStatusCode.OK, await E2bAsync(pipeline, e2bA));
        Assert.Equal(HttpStatusCode.OK, await NewApiAsync(pipeline, newApiA));
        Assert.Equal(HttpStatusCode.OK, await LiveKitAsync(pipeline, "APIrotA", liveKitA));
        Assert.Equal(HttpStatusCode.OK, await SourceAsync(pipeline, sourceA));

        // 3. A retired: only B verifies.
        WriteSecret("Providers__E2b__Secrets__0", e2bB);
        File.Delete(Path.Combine(_dir, "Providers__E2b__Secrets__1"));
        File.Delete(Path.Combine(_dir, "NEWAPI_WEBHOOK_SECRET"));
        File.Delete(Path.Combine(_dir, "Providers__LiveKit__Keys__APIrotA"));
        WriteSettings(sourceB);
        await WaitForStatusAsync(pipeline, () => E2bAsync(pipeline, e2bA), HttpStatusCode.Unauthorized, "E2B secret A to be refused");
        await WaitForStatusAsync(pipeline, () => NewApiAsync(pipeline, newApiA), HttpStatusCode.Unauthorized, "new-api secret A to be refused");
        await WaitForStatusAsync(pipeline, () => LiveKitAsync(pipeline, "APIrotA", liveKitA), HttpStatusCode.Unauthorized, "LiveKit key A to be refused");
        await WaitForStatusAsync(pipeline, () => SourceAsync(pipeline, sourceA), HttpStatusCode.Unauthorized, "source secret A to be refused");
        Assert.Equal(HttpStatusCode.OK, await E2bAsync(pipeline, e2bB));
        Assert.Equal(HttpStatusCode.OK, await NewApiAsync(pipeline, newApiB));
        Assert.Equal(HttpStatusCode.OK, await LiveKitAsync(pipeline, "APIrotB", liveKitB));
        Assert.Equal(HttpStatusCode.OK, await SourceAsync(pipeline, sourceB));

        // 4. A weak secret by reload: refused with a log line naming the setting, B stays in force, nothing crashes.
        // Five letters outside hex, so they cannot turn up by chance in an id or a trace in the log.
        var weak = string.Concat(RandomNumberGenerator.GetItems<char>("ghjkmnpqrtuvwxyzGHJKMNPQRTUVWXYZ", 5));
        WriteSecret("Providers__E2b__Secrets__0", weak);
        await Eventually.WaitAsync(() => Task.FromResult(pipeline.Ingress.FullOutput().Contains("Reloaded configuration of E2bOptions is invalid", StringComparison.Ordinal)),
            Deadline, "the weak E2B secret to be refused in the log", pipeline.Diagnostics);
        var output = pipeline.Ingress.FullOutput();
        Assert.Contains("Providers:E2b:Secrets", output);
        Assert.DoesNotContain(weak, output);
        Assert.Equal(HttpStatusCode.OK, await E2bAsync(pipeline, e2bB));
        Assert.Equal(HttpStatusCode.Unauthorized, await E2bAsync(pipeline, weak));

        // Fixed again: the next valid value applies.
        var e2bC = NewSecret();
        WriteSecret("Providers__E2b__Secrets__0", e2bC);
        await WaitForStatusAsync(pipeline, () => E2bAsync(pipeline, e2bC), HttpStatusCode.OK, "E2B secret C to be accepted");
        Assert.Equal(HttpStatusCode.Unauthorized, await E2bAsync(pipeline, e2bB));

        Assert.True(pipeline.Ingress.IsRunning);
        Assert.Equal(pid, pipeline.Ingress.ProcessId);
        foreach (var secret in new[] { e2bA, e2bB, e2bC, newApiA, newApiB, liveKitA, liveKitB, sourceA, sourceB })
        {
            Assert.DoesNotContain(secret, pipeline.Ingress.FullOutput());
        }
    }

    public void Dispose()
    {
        Directory.Delete(_dir, recursive: true);
        Directory.Delete(Path.GetDirectoryName(_settings)!, recursive: true);
    }

    // Written beside the target and renamed over it, so a reload never reads half a file (dot-prefixed: never a key).
    private void WriteSecret(string name, string value) => WriteAtomically(Path.Combine(_dir, name), value);

    private void WriteSettings(params string[] secrets) => WriteAtomically(_settings, JsonSerializer.Serialize(new
    {
        Sources = new { agents = new { Scheme = "hmac-sha256", Secrets = secrets } },
    }));

    private static void WriteAtomically(string path, string content)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(path)!, "." + Path.GetFileName(path) + ".tmp");
        File.WriteAllText(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }

    private static Task WaitForStatusAsync(PipelineTopology pipeline, Func<Task<HttpStatusCode>> send, HttpStatusCode expected, string what) =>
        Eventually.WaitAsync(send, status => status == expected, Deadline, what, pipeline.Diagnostics);

    private static async Task<HttpStatusCode> E2bAsync(PipelineTopology pipeline, string secret) =>
        (await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-rot-" + Guid.NewGuid().ToString("N")[..8], DateTime.UtcNow), secret: secret)).StatusCode;

    private static async Task<HttpStatusCode> NewApiAsync(PipelineTopology pipeline, string secret) =>
        (await pipeline.IngressHttp.SendAsync(NewApiEvents.SignedRequest(
            NewApiEvents.Consume("req-" + Guid.NewGuid().ToString("N"), 42L, 100), secret))).StatusCode;

    private static async Task<HttpStatusCode> LiveKitAsync(PipelineTopology pipeline, string apiKey, string secret)
    {
        var now = DateTimeOffset.UtcNow;
        var body = LiveKitWebhooks.Body("room_started", "EV_" + Guid.NewGuid().ToString("N")[..12], now,
            room: LiveKitWebhooks.Room("RM_" + Guid.NewGuid().ToString("N")[..10], "rotation", now));
        return (await pipeline.IngressHttp.SendAsync(LiveKitTestSigner.SignedRequest(body, apiKey, secret))).StatusCode;
    }

    private static async Task<HttpStatusCode> SourceAsync(PipelineTopology pipeline, string secret)
    {
        var body = JsonSerializer.Serialize(new { id = Guid.NewGuid().ToString(), event_type = "agent.completed" });
        var request = new HttpRequestMessage(HttpMethod.Post, "webhooks/agents") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Webhook-Signature",
            "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body))));
        return (await pipeline.IngressHttp.SendAsync(request)).StatusCode;
    }
}
