using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.IntegrationTests.Interop;
using Pipeline.IntegrationTests.Rooms;

namespace Pipeline.IntegrationTests.Hardening;

/// <summary>
/// The services' read APIs (sandboxes with their metadata, credit accounts, ledgers and event logs, rooms) answer only
/// a bearer read key (<c>Api:ReadKeys</c>) or the admin key; a read key opens no admin endpoint; read keys rotate
/// through the secrets directory like every other secret.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ApiAccessTests(TestServices services) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);
    private static readonly HttpClient Anonymous = new();

    // Every refusal these tests make comes from one address: room enough that the limit on failed attempts stays out of the way.
    private static readonly KeyValuePair<string, string> ManyAttempts = new("Admin__FailedAttemptsPerMinute", "10000");

    private readonly string _dir = Directory.CreateTempSubdirectory("pipeline-read-keys-").FullName;

    private static string NewKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    [Fact]
    public async Task Read_APIs_need_a_read_key_or_the_admin_key_and_a_read_key_opens_no_admin_endpoint()
    {
        var adminKey = NewKey();
        var (liveKitKey, liveKitSecret) = ("APIaccess", NewKey());
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [ConsumerService.Sandboxes, ConsumerService.Credits, ConsumerService.Rooms],
            IngressEnvironment = { ["ADMIN_API_KEY"] = adminKey, ["LIVEKIT_API_KEY"] = liveKitKey, ["LIVEKIT_API_SECRET"] = liveKitSecret },
            ConsumerEnvironment = { ["ADMIN_API_KEY"] = adminKey, [ManyAttempts.Key] = ManyAttempts.Value },
        });

        // Something to read in every service: a sandbox whose metadata holds a user's token, an account, a room.
        var token = "tok_" + NewKey();
        var sandboxId = "sbx-access-1";
        Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(SandboxWithMetadata(sandboxId, token))).StatusCode);
        using (var topUp = await SendAsync(pipeline.Consumers[ConsumerService.Credits], HttpMethod.Post, "api/accounts/u-access/top-ups", adminKey,
                   """{"amount": 5, "reference": "inv-access"}"""))
        {
            Assert.Equal(HttpStatusCode.Created, topUp.StatusCode);
        }

        var (roomName, roomSid) = ("access-room", "RM_access1");
        var now = DateTimeOffset.UtcNow;
        var roomStarted = LiveKitWebhooks.Body("room_started", "EV_access1", now, LiveKitWebhooks.Room(roomSid, roomName, now));
        // Signed as "Bearer <JWT>": a webhook's own Authorization header is none of the read keys' business.
        using var roomRequest = LiveKitTestSigner.SignedRequest(roomStarted, liveKitKey, liveKitSecret);
        var jwt = roomRequest.Headers.GetValues("Authorization").Single();
        roomRequest.Headers.Remove("Authorization");
        roomRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", jwt);
        Assert.Equal(HttpStatusCode.OK, (await pipeline.IngressHttp.SendAsync(roomRequest)).StatusCode);
        await Eventually.WaitAsync(() => pipeline.GetSandboxAsync(sandboxId), s => s is not null, Deadline, "the sandbox", pipeline.Diagnostics);
        await Eventually.WaitAsync(async () => (await pipeline.ConsumerHttp[ConsumerService.Rooms].GetAsync($"api/rooms/{roomName}")).StatusCode,
            s => s == HttpStatusCode.OK, Deadline, "the room", pipeline.Diagnostics);

        var reads = new (ConsumerService Service, string Path)[]
        {
            (ConsumerService.Sandboxes, "api/sandboxes"),
            (ConsumerService.Sandboxes, "api/sandboxes?state=running"),
            (ConsumerService.Sandboxes, $"api/sandboxes/{sandboxId}"),
            (ConsumerService.Credits, "api/accounts/u-access"),
            (ConsumerService.Credits, "api/accounts/u-access/ledger"),
            (ConsumerService.Credits, "api/webhook-logs"),
            (ConsumerService.Credits, "api/webhook-logs/summary"),
            (ConsumerService.Rooms, "api/rooms"),
            (ConsumerService.Rooms, $"api/rooms/{roomName}"),
            (ConsumerService.Rooms, $"api/rooms/sid/{roomSid}"),
        };
        var refused = new (string What, string? Authorization)[]
        {
            ("no key", null),
            ("a wrong key of the same length", "Bearer " + NewKey()),
            ("the read key without its last character", "Bearer " + pipeline.ReadKey[..^1]),
            ("the read key with one more character", "Bearer " + pipeline.ReadKey + "0"),
            ("the read key as Basic credentials", "Basic " + pipeline.ReadKey),
            ("the read key without a scheme", pipeline.ReadKey),
        };
        foreach (var (service, path) in reads)
        {
            var host = pipeline.Consumers[service];
            foreach (var (what, authorization) in refused)
            {
                using var response = await SendAsync(host, HttpMethod.Get, path, authorization: authorization);
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{service.Name} {path} with {what}: {(int)response.StatusCode} {body}");
                Assert.Equal("unauthorized", JsonDocument.Parse(body).RootElement.GetProperty("error").GetString());
                Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
                Assert.DoesNotContain(token, body);
            }

            foreach (var (what, key) in new[] { ("the read key", pipeline.ReadKey), ("the admin key", adminKey) })
            {
                using var response = await SendAsync(host, HttpMethod.Get, path, key);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{service.Name} {path} with {what}: {(int)response.StatusCode}");
            }
        }

        // What the key protects: the sandbox's metadata, token included, is there for a reader.
        using (var sandbox = await SendAsync(pipeline.Sandboxes, HttpMethod.Get, $"api/sandboxes/{sandboxId}", pipeline.ReadKey))
        {
            Assert.Equal(token, (await sandbox.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("metadata").GetProperty("api_token").GetString());
        }

        using (var lowerCase = await SendAsync(pipeline.Sandboxes, HttpMethod.Get, "api/sandboxes", authorization: "bearer " + pipeline.ReadKey))
        {
            Assert.Equal(HttpStatusCode.OK, lowerCase.StatusCode);
        }

        // A read key opens no admin endpoint: neither a top-up nor the dead letters.
        using (var topUp = await SendAsync(pipeline.Consumers[ConsumerService.Credits], HttpMethod.Post, "api/accounts/u-access/top-ups", pipeline.ReadKey,
                   """{"amount": 100, "reference": "inv-by-reader"}"""))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, topUp.StatusCode);
        }

        Assert.Equal(0, await pipeline.CountAsync("""SELECT count(*) FROM credits_ledger WHERE "Reference" = 'inv-by-reader'"""));
        foreach (var (method, path, body) in new (HttpMethod, string, string?)[]
                 {
                     (HttpMethod.Get, "api/admin/dead-letters/counts", null),
                     (HttpMethod.Get, "api/admin/dead-letters", null),
                     (HttpMethod.Post, "api/admin/dead-letters/replay", """{"dryRun": true}"""),
                     (HttpMethod.Post, "api/admin/dead-letters/purge", """{"dryRun": true}"""),
                     (HttpMethod.Get, "api/admin/outbox", null),
                 })
        {
            using var asReader = await SendAsync(pipeline.Ingress, method, path, pipeline.ReadKey, body);
            Assert.True(asReader.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with the read key: {(int)asReader.StatusCode}");
            using var asAdmin = await SendAsync(pipeline.Ingress, method, path, adminKey, body);
            Assert.True(asAdmin.StatusCode == HttpStatusCode.OK, $"{method} {path} with the admin key: {(int)asAdmin.StatusCode}");
        }

        foreach (var host in pipeline.Consumers.Values.Append(pipeline.Ingress))
        {
            Assert.DoesNotContain(pipeline.ReadKey, host.FullOutput());
            Assert.DoesNotContain(adminKey, host.FullOutput());
        }

        Assert.Contains("Refused read request to /api/sandboxes: wrong bearer key", pipeline.Sandboxes.FullOutput());
        Assert.DoesNotContain("PipelineKey", pipeline.Ingress.FullOutput()); // no webhook met the read-key scheme
    }

    [Fact]
    public async Task Read_keys_rotate_through_the_secrets_directory_without_a_restart_and_a_weak_one_is_refused()
    {
        var (a, b) = (NewKey(), NewKey());
        WriteSecret("Api__ReadKeys__0", a);
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            ConsumerEnvironment =
            {
                ["PIPELINE_SECRETS_DIR"] = _dir,
                ["Api__ReadKeys__0"] = "", // the topology's own read key would stay valid through every rotation
                [ManyAttempts.Key] = ManyAttempts.Value,
            },
        });
        var sandboxes = pipeline.Sandboxes;
        var pid = sandboxes.ProcessId;

        Assert.Equal(HttpStatusCode.OK, await ReadAsync(sandboxes, a));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReadAsync(sandboxes, b));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReadAsync(sandboxes, pipeline.ReadKey));

        // Both during the rotation, then only the new one.
        WriteSecret("Api__ReadKeys__1", b);
        await WaitForStatusAsync(pipeline, () => ReadAsync(sandboxes, b), HttpStatusCode.OK, "read key B to be accepted");
        Assert.Equal(HttpStatusCode.OK, await ReadAsync(sandboxes, a));
        WriteSecret("Api__ReadKeys__0", b);
        File.Delete(Path.Combine(_dir, "Api__ReadKeys__1"));
        await WaitForStatusAsync(pipeline, () => ReadAsync(sandboxes, a), HttpStatusCode.Unauthorized, "read key A to be refused");
        Assert.Equal(HttpStatusCode.OK, await ReadAsync(sandboxes, b));

        // A weak key by reload is refused with a log line naming the setting; B stays in force.
        var weak = string.Concat(RandomNumberGenerator.GetItems<char>("ghjkmnpqrtuvwxyzGHJKMNPQRTUVWXYZ", 5));
        WriteSecret("Api__ReadKeys__0", weak);
        await Eventually.WaitAsync(() => Task.FromResult(sandboxes.FullOutput().Contains("Reloaded configuration of ApiOptions is invalid", StringComparison.Ordinal)),
            Deadline, "the weak read key to be refused in the log", pipeline.Diagnostics);
        Assert.Contains("Api:ReadKeys", sandboxes.FullOutput());
        Assert.DoesNotContain(weak, sandboxes.FullOutput());
        Assert.Equal(HttpStatusCode.OK, await ReadAsync(sandboxes, b));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReadAsync(sandboxes, weak));

        Assert.Equal(pid, sandboxes.ProcessId);
        foreach (var key in new[] { a, b })
        {
            Assert.DoesNotContain(key, sandboxes.FullOutput());
        }
    }

    [Fact]
    public async Task Failed_read_attempts_count_against_the_address_so_keys_are_guessed_no_faster_than_admin_keys()
    {
        var adminKey = NewKey();
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            ConsumerEnvironment = { ["ADMIN_API_KEY"] = adminKey, ["Admin__FailedAttemptsPerMinute"] = "3" },
        });
        var sandboxes = pipeline.Sandboxes;

        Assert.Equal(HttpStatusCode.OK, await ReadAsync(sandboxes, pipeline.ReadKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReadAsync(sandboxes, NewKey()));
        Assert.Equal(HttpStatusCode.Unauthorized, await ReadAsync(sandboxes, NewKey()));
        using (var missing = await SendAsync(sandboxes, HttpMethod.Get, "api/sandboxes"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        }

        // Past the limit even the right keys wait, so a guess that happens to be right tells nothing.
        foreach (var key in new[] { NewKey(), pipeline.ReadKey, adminKey })
        {
            using var refused = await SendAsync(sandboxes, HttpMethod.Get, "api/sandboxes", key);
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.Equal("too_many_attempts", JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        }

        var metrics = await pipeline.SandboxesManagement.GetStringAsync("metrics");
        Assert.Contains("pipeline_api_refused_total{reason=\"wrong bearer key\"} 2", metrics);
        Assert.Contains("pipeline_api_refused_total{reason=\"missing bearer key\"} 1", metrics);
        Assert.Contains("pipeline_api_refused_total{reason=\"too many failed attempts\"} 3", metrics);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void WriteSecret(string name, string value)
    {
        var path = Path.Combine(_dir, name);
        var temporary = Path.Combine(_dir, "." + name + ".tmp");
        File.WriteAllText(temporary, value);
        File.Move(temporary, path, overwrite: true);
    }

    private static string SandboxWithMetadata(string sandboxId, string token) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["id"] = Guid.NewGuid().ToString(),
        ["version"] = "v2",
        ["type"] = "sandbox.lifecycle.created",
        ["timestamp"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
        ["event_category"] = "lifecycle",
        ["event_label"] = "create",
        ["sandbox_id"] = sandboxId,
        ["sandbox_team_id"] = "team-1",
        ["sandbox_template_id"] = "base",
        ["event_data"] = new { sandbox_metadata = new Dictionary<string, string> { ["api_token"] = token } },
    });

    private static Task WaitForStatusAsync(PipelineTopology pipeline, Func<Task<HttpStatusCode>> send, HttpStatusCode expected, string what) =>
        Eventually.WaitAsync(send, status => status == expected, Deadline, what, pipeline.Diagnostics);

    private static async Task<HttpStatusCode> ReadAsync(HostProcess host, string key)
    {
        using var response = await SendAsync(host, HttpMethod.Get, "api/sandboxes", key);
        return response.StatusCode;
    }

    /// <summary>A request to <paramref name="host"/>'s public port carrying exactly the credentials given (none when null).</summary>
    private static async Task<HttpResponseMessage> SendAsync(HostProcess host, HttpMethod method, string path, string? bearer = null, string? json = null,
        string? authorization = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(host.BaseAddress, path));
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        else if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        var response = await Anonymous.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }
}
