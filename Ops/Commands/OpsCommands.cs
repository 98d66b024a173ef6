using System.CommandLine;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.DeadLetters;

namespace Pipeline.Ops.Commands;

/// <summary>pipeline-ops: the operator's tool. Every command prints what it did and exits non-zero on failure.</summary>
public static class OpsCommands
{
    private static readonly Option<string> RabbitMq = new("--rabbitmq")
    {
        Description = "Broker URI, amqp://user:password@host:port/vhost (env PIPELINE_RABBITMQ, else Bus__RabbitMq)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PIPELINE_RABBITMQ")
                                   ?? Environment.GetEnvironmentVariable("Bus__RabbitMq")
                                   ?? "amqp://guest:guest@127.0.0.1:5672/",
        Recursive = true,
    };

    private static readonly Option<string?> Management = new("--management")
    {
        Description = "RabbitMQ management API (env PIPELINE_RABBITMQ_MANAGEMENT; default: the broker's host, https on port 15671 " +
                      "for an amqps broker, http on port 15672 for amqp; must be https for an amqps broker)",
        Recursive = true,
    };

    public static RootCommand Build()
    {
        var root = new RootCommand("Pipeline operator tool: dead letters, outbox, test events, outbound webhook endpoints and deliveries.");
        root.Options.Add(RabbitMq);
        root.Options.Add(Management);
        root.Subcommands.Add(DeadLetterCommands.Build(ConnectAsync));
        root.Subcommands.Add(OutboxCommands.Build());
        root.Subcommands.Add(SendTestCommands.Build());
        root.Subcommands.Add(DeliveriesCommands.Endpoints());
        root.Subcommands.Add(DeliveriesCommands.Deliveries());
        return root;
    }

    private static Task<DeadLetterClient> ConnectAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var amqp = ParseUri(parse.GetValue(RabbitMq), "--rabbitmq", "amqp", "amqps");
        var management = ManagementApi.Resolve(amqp,
            parse.GetValue(Management) ?? Environment.GetEnvironmentVariable("PIPELINE_RABBITMQ_MANAGEMENT"),
            "--management (PIPELINE_RABBITMQ_MANAGEMENT)");
        return DeadLetterClient.ConnectAsync(amqp, management, cancellationToken);
    }

    private static Uri ParseUri(string? value, string option, params string[] schemes)
    {
        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && schemes.Contains(uri.Scheme))
        {
            return uri;
        }

        throw new ArgumentException($"{option} must be an absolute {string.Join(" or ", schemes)} URI; got '{value}'.");
    }
}
