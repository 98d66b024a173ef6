using System.Net.Http.Json;
using DotNet.Testcontainers.Builders;
using Testcontainers.PostgreSql;
using Testcontainers.RabbitMq;

namespace Pipeline.IntegrationTests.Infrastructure;

/// <summary>
/// The real RabbitMQ and PostgreSQL the integration tests run against: started by ./test.sh from Debian packages
/// (their addresses arrive in PIPELINE_TEST_* variables), or by Testcontainers where a Docker engine works.
/// </summary>
public sealed class TestServices : IAsyncLifetime
{
    private RabbitMqContainer? _rabbit;
    private PostgreSqlContainer? _postgres;

    /// <summary>amqp://guest:guest@127.0.0.1:port/ (no vhost: every test makes its own).</summary>
    public Uri RabbitMq { get; private set; } = null!;

    public Uri RabbitMqManagement { get; private set; } = null!;

    /// <summary>A client of the broker's management API with the test broker's credentials.</summary>
    public HttpClient ManagementClient()
    {
        var client = new HttpClient { BaseAddress = RabbitMqManagement };
        client.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String("guest:guest"u8.ToArray()));
        return client;
    }

    /// <summary>Creates a vhost of its own for one test, open to the test broker's user.</summary>
    public static async Task CreateVhostAsync(HttpClient management, string name)
    {
        var vhost = Uri.EscapeDataString(name);
        (await management.PutAsync($"api/vhosts/{vhost}", null)).EnsureSuccessStatusCode();
        (await management.PutAsJsonAsync($"api/permissions/{vhost}/guest", new { configure = ".*", write = ".*", read = ".*" }))
            .EnsureSuccessStatusCode();
    }

    /// <summary>An Npgsql connection string to a database from which each test creates its own.</summary>
    public string Postgres { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var rabbit = Environment.GetEnvironmentVariable("PIPELINE_TEST_RABBITMQ_URI");
        var management = Environment.GetEnvironmentVariable("PIPELINE_TEST_RABBITMQ_MANAGEMENT_URI");
        var postgres = Environment.GetEnvironmentVariable("PIPELINE_TEST_POSTGRES");
        if (!string.IsNullOrEmpty(rabbit) && !string.IsNullOrEmpty(management) && !string.IsNullOrEmpty(postgres))
        {
            RabbitMq = new Uri(rabbit);
            RabbitMqManagement = new Uri(management);
            Postgres = postgres;
            return;
        }

        if (Environment.GetEnvironmentVariable("PIPELINE_TEST_USE_TESTCONTAINERS") != "1")
        {
            throw new InvalidOperationException(
                "The integration tests need a real RabbitMQ and PostgreSQL. Run them through ./test.sh, which starts both " +
                "(or set PIPELINE_TEST_RABBITMQ_URI, PIPELINE_TEST_RABBITMQ_MANAGEMENT_URI and PIPELINE_TEST_POSTGRES, " +
                "or PIPELINE_TEST_USE_TESTCONTAINERS=1 where Docker works).");
        }

        _rabbit = new RabbitMqBuilder("rabbitmq:3.13-management")
            .WithUsername("guest").WithPassword("guest")
            .WithPortBinding(15672, true)
            .WithWaitStrategy(Wait.ForUnixContainer().UntilHttpRequestIsSucceeded(r => r.ForPort(15672).ForPath("/")))
            .Build();
        _postgres = new PostgreSqlBuilder("postgres:15").WithCommand("-c", "max_connections=300").Build();
        await Task.WhenAll(_rabbit.StartAsync(), _postgres.StartAsync());
        RabbitMq = new Uri($"amqp://guest:guest@127.0.0.1:{_rabbit.GetMappedPublicPort(5672)}/");
        RabbitMqManagement = new Uri($"http://127.0.0.1:{_rabbit.GetMappedPublicPort(15672)}/");
        Postgres = _postgres.GetConnectionString();
    }

    public async Task DisposeAsync()
    {
        if (_rabbit is not null)
        {
            await _rabbit.DisposeAsync();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class PipelineCollection : ICollectionFixture<TestServices>
{
    public const string Name = "pipeline";
}
