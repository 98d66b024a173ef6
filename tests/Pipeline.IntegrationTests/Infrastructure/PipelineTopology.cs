using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;

namespace Pipeline.IntegrationTests.Infrastructure;

/// <summary>
/// The full topology for one test: its own PostgreSQL database and RabbitMQ vhost, Ingress and the Sandboxes service
/// as separate processes. Ingress reaches the broker through a <see cref="TcpProxy"/> so a test can cut it off.
/// </summary>
public sealed class PipelineTopology : IAsyncDisposable
{
    private readonly TestServices _services;
    private readonly HttpClient _management;
    private readonly string _adminConnection;

    private readonly bool _separateDatabases;
    private readonly List<string> _createdDatabases = [];

    private PipelineTopology(TestServices services, string name, bool separateDatabases)
    {
        _services = services;
        Name = name;
        _separateDatabases = separateDatabases;
        Secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        ReadKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var admin = new NpgsqlConnectionStringBuilder(services.Postgres);
        _adminConnection = admin.ConnectionString;
        admin.Database = name;
        admin.MaxPoolSize = 10;
        Database = admin.ConnectionString;
        _management = services.ManagementClient();
        BrokerProxy = new TcpProxy(services.RabbitMq.Port);
    }

    public string Name { get; }

    /// <summary>The E2B signing secret of this topology, generated per test.</summary>
    public string Secret { get; }

    /// <summary>The read key of the services' APIs (<c>Api:ReadKeys</c>), generated per test; <see cref="ConsumerHttp"/> sends it.</summary>
    public string ReadKey { get; }

    public string Database { get; }
    public TcpProxy BrokerProxy { get; }
    public HostProcess Ingress { get; private set; } = null!;
    public HttpClient IngressHttp { get; private set; } = null!;

    /// <summary>Ingress's management port: /metrics and /health/ready.</summary>
    public HttpClient IngressManagement { get; private set; } = null!;

    public Dictionary<ConsumerService, HostProcess> Consumers { get; } = [];

    /// <summary>Each consumer's public port, sending <see cref="ReadKey"/> unless a request says otherwise.</summary>
    public Dictionary<ConsumerService, HttpClient> ConsumerHttp { get; } = [];

    public Dictionary<ConsumerService, HttpClient> ConsumerManagement { get; } = [];
    public HostProcess Sandboxes => Consumers[ConsumerService.Sandboxes];
    public HttpClient SandboxesHttp => ConsumerHttp[ConsumerService.Sandboxes];
    public HttpClient SandboxesManagement => ConsumerManagement[ConsumerService.Sandboxes];

    /// <summary>Ingress and the Sandboxes service.</summary>
    public static Task<PipelineTopology> StartAsync(TestServices services) => StartAsync(services, new TopologyOptions());

    public static async Task<PipelineTopology> StartAsync(TestServices services, TopologyOptions options)
    {
        var topology = new PipelineTopology(services, "t_" + Guid.NewGuid().ToString("N")[..12], options.SeparateDatabases);
        try
        {
            foreach (var database in topology.Databases(options))
            {
                await topology.ExecuteAdminAsync($"CREATE DATABASE \"{database}\"");
                topology._createdDatabases.Add(database);
            }

            await TestServices.CreateVhostAsync(topology._management, topology.Name);

            // Consumers first: their queues and bindings must exist before anything is published.
            foreach (var consumer in options.Consumers)
            {
                var brokerPort = options.ConsumersThroughBrokerProxy ? topology.BrokerProxy.Port : services.RabbitMq.Port;
                var host = new HostProcess(consumer.Name, consumer.Project, consumer.Assembly,
                    topology.Environment(brokerPort, consumer.ConnectionName, options.ConsumerEnvironment));
                topology.Consumers[consumer] = host;
                await host.StartAsync();
                topology.ConsumerHttp[consumer] = new HttpClient { BaseAddress = host.BaseAddress };
                topology.ConsumerHttp[consumer].DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", topology.ReadKey);
                topology.ConsumerManagement[consumer] = new HttpClient { BaseAddress = host.ManagementAddress };
                await topology.WaitForQueueAsync(consumer.Queue);
            }

            if (!options.StartIngress)
            {
                return topology;
            }

            // Deliveries without every domain consumer stands for a deployment that leaves those out on purpose: their
            // contracts go to Deliveries alone instead of waiting in the outbox for queues that will never exist.
            var ingressEnvironment = new Dictionary<string, string>(options.IngressEnvironment);
            if (options.Consumers.Contains(ConsumerService.Deliveries) &&
                !new[] { ConsumerService.Sandboxes, ConsumerService.Credits, ConsumerService.Rooms }.All(options.Consumers.Contains))
            {
                ingressEnvironment.TryAdd("Outbox__WaitForConsumerQueues", "false");
            }

            topology.Ingress = new HostProcess("ingress", "Ingress", "Pipeline.Ingress",
                topology.Environment(topology.BrokerProxy.Port, "Ingress", ingressEnvironment));
            await topology.Ingress.StartAsync();
            topology.IngressHttp = new HttpClient { BaseAddress = topology.Ingress.BaseAddress };
            topology.IngressManagement = new HttpClient { BaseAddress = topology.Ingress.ManagementAddress };
            return topology;
        }
        catch
        {
            await topology.DisposeAsync();
            throw;
        }
    }

    public Dictionary<string, string> Environment(int brokerPort, string connectionName, IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = BaseEnvironment(brokerPort, connectionName);
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return environment;
    }

    /// <summary>The connection string of a service's database (all share one unless SeparateDatabases is set).</summary>
    public string DatabaseOf(string connectionName) =>
        new NpgsqlConnectionStringBuilder(Database) { Database = DatabaseName(connectionName) }.ConnectionString;

    /// <summary>Makes a service's database refuse connections (and drops the open ones), or accept them again.</summary>
    public async Task SetDatabaseAvailableAsync(string connectionName, bool available)
    {
        var name = DatabaseName(connectionName);
        await ExecuteAdminAsync($"ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS {(available ? "true" : "false")}");
        if (!available)
        {
            await ExecuteAdminAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()");
        }
    }

    /// <summary>Runs the operator tool (pipeline-ops) against this topology's broker and vhost.</summary>
    public Task<(int ExitCode, string Output, string Error)> RunOpsAsync(params string[] args) =>
        RunOpsAsync(new Dictionary<string, string>(), args);

    /// <summary>The same, with environment variables set (an empty value hides one this process has).</summary>
    public Task<(int ExitCode, string Output, string Error)> RunOpsAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        RunOpsProcessAsync(environment,
            [.. args, "--rabbitmq", $"amqp://guest:guest@127.0.0.1:{_services.RabbitMq.Port}/{Name}", "--management", _services.RabbitMqManagement.ToString()]);

    /// <summary>Runs pipeline-ops with exactly these arguments (no broker of a topology).</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunOpsProcessAsync(IReadOnlyDictionary<string, string> environment, IEnumerable<string> args)
    {
        var dll = Path.Combine(RepoPaths.Root, "Ops", "bin", RepoPaths.Configuration, "net10.0", "pipeline-ops.dll");
        var info = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }

    private string DatabaseName(string connectionName) => _separateDatabases ? $"{Name}_{connectionName.ToLowerInvariant()}" : Name;

    private IEnumerable<string> Databases(TopologyOptions options) =>
        _separateDatabases ? options.Consumers.Select(c => c.ConnectionName).Append("Ingress").Select(DatabaseName) : [Name];

    private Dictionary<string, string> BaseEnvironment(int brokerPort, string connectionName) => new()
    {
        ["Database__Provider"] = "PostgreSql",
        [$"ConnectionStrings__{connectionName}"] = DatabaseOf(connectionName),
        ["Bus__Transport"] = "RabbitMq",
        ["Bus__RabbitMq"] = $"amqp://guest:guest@127.0.0.1:{brokerPort}/{Name}",
        ["Bus__RabbitMqManagement"] = _services.RabbitMqManagement.ToString(),
        ["E2B_WEBHOOK_SECRET"] = Secret,
        ["Api__ReadKeys__0"] = ReadKey,
        // Short retry delays so a test sees the backlog drain within seconds of the broker's return.
        ["Outbox__PublishTimeout"] = "00:00:03",
        ["Outbox__MaxRetryDelay"] = "00:00:01",
        // One delayed retry of a second instead of 1, 5 and 15 minutes before a failing message is dead-lettered.
        ["Bus__Redelivery__0"] = "00:00:01",
    };

    public Task<HttpResponseMessage> PostE2bAsync(string body, string path = "webhooks/e2b", string? secret = null) =>
        IngressHttp.SendAsync(E2bEvents.SignedRequest(body, secret ?? Secret, path));

    public async Task<JsonElement?> GetSandboxAsync(string sandboxId)
    {
        var response = await SandboxesHttp.GetAsync($"api/sandboxes/{sandboxId}");
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>() : null;
    }

    public async Task<T> ScalarAsync<T>(string sql, string connectionName = "Ingress")
    {
        await using var connection = new NpgsqlConnection(DatabaseOf(connectionName));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <param name="connectionName">Whose database to ask when each service has its own (default: Ingress's).</param>
    public async Task<long> CountAsync(string sql, string connectionName = "Ingress")
    {
        await using var connection = new NpgsqlConnection(DatabaseOf(connectionName));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync() ?? 0L);
    }

    public async Task<(long Ready, long Unacked)> QueueDepthAsync(string queue)
    {
        var json = await _management.GetFromJsonAsync<JsonElement>($"api/queues/{Uri.EscapeDataString(Name)}/{Uri.EscapeDataString(queue)}");
        return (json.TryGetProperty("messages_ready", out var r) ? r.GetInt64() : 0,
                json.TryGetProperty("messages_unacknowledged", out var u) ? u.GetInt64() : 0);
    }

    public string Diagnostics() =>
        string.Join(System.Environment.NewLine, Consumers.Values.Prepend(Ingress).OfType<HostProcess>().Select(h => h.RecentOutput()));

    public async ValueTask DisposeAsync()
    {
        if (Ingress is not null)
        {
            await Ingress.DisposeAsync();
        }

        foreach (var consumer in Consumers.Values)
        {
            await consumer.DisposeAsync();
        }

        await BrokerProxy.DisposeAsync();
        await _management.DeleteAsync($"api/vhosts/{Uri.EscapeDataString(Name)}");
        NpgsqlConnection.ClearAllPools();
        foreach (var database in _createdDatabases)
        {
            await ExecuteAdminAsync($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        }
        _management.Dispose();
        IngressHttp?.Dispose();
        IngressManagement?.Dispose();
        foreach (var http in ConsumerHttp.Values.Concat(ConsumerManagement.Values))
        {
            http.Dispose();
        }
    }

    private async Task ExecuteAdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_adminConnection);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private Task WaitForQueueAsync(string queue) =>
        Eventually.WaitAsync(async () =>
            (await _management.GetAsync($"api/queues/{Uri.EscapeDataString(Name)}/{Uri.EscapeDataString(queue)}")).IsSuccessStatusCode,
            TimeSpan.FromSeconds(60), $"queue {queue} to be declared", Diagnostics);
}

/// <summary>A consumer service as the tests start it: its project, its connection string name, its main queue.</summary>
public sealed record ConsumerService(string Name, string Project, string Assembly, string ConnectionName, string Queue)
{
    public static readonly ConsumerService Sandboxes =
        new("sandboxes", "Consumers/Sandboxes", "Pipeline.Consumers.Sandboxes", "Sandboxes", "sandboxes-lifecycle");

    public static readonly ConsumerService Credits =
        new("credits", "Consumers/Credits", "Pipeline.Consumers.Credits", "Credits", "credits-usage");

    public static readonly ConsumerService Rooms =
        new("rooms", "Consumers/Rooms", "Pipeline.Consumers.Rooms", "Rooms", "rooms-livekit");

    public static readonly ConsumerService Deliveries =
        new("deliveries", "Consumers/Deliveries", "Pipeline.Consumers.Deliveries", "Deliveries", "deliveries-events");
}

public sealed class TopologyOptions
{
    public List<ConsumerService> Consumers { get; init; } = [ConsumerService.Sandboxes];

    /// <summary>False: the test starts its own hosts (the database and the vhost are still made).</summary>
    public bool StartIngress { get; init; } = true;

    /// <summary>Extra settings for Ingress (provider secrets, sources), as environment variables.</summary>
    public Dictionary<string, string> IngressEnvironment { get; init; } = [];

    /// <summary>Give every service its own database, so one can be taken away while the others work.</summary>
    public bool SeparateDatabases { get; init; }

    /// <summary>Consumers reach the broker through <see cref="PipelineTopology.BrokerProxy"/> too, so a cut stops the broker for all.</summary>
    public bool ConsumersThroughBrokerProxy { get; init; }

    /// <summary>Extra settings for every consumer service (admin keys, thresholds).</summary>
    public Dictionary<string, string> ConsumerEnvironment { get; init; } = [];
}

/// <summary>E2B test events in both wire formats, signed the way E2B (or the seeds' deployments) sign them.</summary>
public static class E2bEvents
{
    public static string Seed(string label, string sandboxId, DateTime at, string team = "team-1", string template = "base") =>
        JsonSerializer.Serialize(new
        {
            eventCategory = "lifecycle",
            eventLabel = label,
            sandboxId,
            sandboxTeamId = team,
            sandboxTemplateId = template,
            timestamp = at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
        });

    public static string V2(string label, string sandboxId, DateTime at, string? id = null, long? executionMs = null)
    {
        var type = label switch
        {
            "create" => "created",
            "kill" => "killed",
            "pause" => "paused",
            "resume" => "resumed",
            _ => "updated",
        };
        return JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = id ?? Guid.NewGuid().ToString(),
            ["version"] = "v2",
            ["type"] = "sandbox.lifecycle." + type,
            ["timestamp"] = at.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
            ["event_category"] = "lifecycle",
            ["event_label"] = label,
            ["sandbox_id"] = sandboxId,
            ["sandbox_team_id"] = "team-1",
            ["sandbox_template_id"] = "base",
            ["event_data"] = executionMs is null ? null : new { execution = new { execution_time = executionMs } },
        });
    }

    /// <summary>v2 bodies get E2B's current SHA-256 signature; seed bodies the seeds' hex HMAC.</summary>
    public static HttpRequestMessage SignedRequest(string body, string secret, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        var bytes = Encoding.UTF8.GetBytes(body);
        if (body.Contains("\"version\":\"v2\"", StringComparison.Ordinal))
        {
            var hash = SHA256.HashData([.. Encoding.UTF8.GetBytes(secret), .. bytes]);
            request.Headers.Add("e2b-signature", Convert.ToBase64String(hash).TrimEnd('='));
            request.Headers.Add("e2b-signature-version", "v1");
        }
        else
        {
            request.Headers.Add("X-E2B-Signature", Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), bytes)));
        }

        return request;
    }
}
