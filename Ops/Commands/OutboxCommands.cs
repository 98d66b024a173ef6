using System.CommandLine;
using Pipeline.Ops.Outbox;
using Pipeline.Persistence;

namespace Pipeline.Ops.Commands;

/// <summary>outbox status: how much is waiting to be published, for how long, and how fast it drains.</summary>
public static class OutboxCommands
{
    public static Command Build()
    {
        var provider = new Option<DatabaseProvider>("--provider")
        {
            Description = "Sqlite, PostgreSql or SqlServer (env Database__Provider)",
            DefaultValueFactory = _ => Enum.TryParse<DatabaseProvider>(Environment.GetEnvironmentVariable("Database__Provider"), true, out var p) ? p : DatabaseProvider.PostgreSql,
        };
        var connection = new Option<string?>("--connection") { Description = "Connection string (env ConnectionStrings__Ingress)" };
        var status = new Command("status", "Pending rows, oldest pending age, failing rows and, where published rows are kept (Outbox:RetainSent), rows sent in the last minute.") { provider, connection };
        status.SetAction(async (parse, ct) =>
        {
            var connectionString = parse.GetValue(connection) ?? Environment.GetEnvironmentVariable("ConnectionStrings__Ingress");
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                Console.Error.WriteLine("Give --connection (or set ConnectionStrings__Ingress).");
                return 2;
            }

            var found = 0;
            foreach (var table in OutboxStatus.KnownTables)
            {
                if (await OutboxStatus.ReadAsync(parse.GetValue(provider), connectionString, table, ct) is not { } s)
                {
                    continue;
                }

                found++;
                var age = s.OldestPending is { } oldest ? $"{(DateTime.UtcNow - oldest).TotalSeconds:0.0} s" : "-";
                var sent = s.SentLastMinute is { } count
                    ? $"{count} sent in the last minute ({count / 60.0:0.0}/s)"
                    : "no published rows kept (deleted once published; Outbox:RetainSent)";
                Console.WriteLine($"{s.Table}: {s.Pending} pending (oldest {age}), {s.Failing} failing, {sent}");
                if (s.LastError is not null)
                {
                    Console.WriteLine($"  last error: {s.LastError}");
                }
            }

            if (found == 0)
            {
                Console.Error.WriteLine("No outbox table in that database.");
                return 2;
            }

            return 0;
        });
        var command = new Command("outbox", "The transactional outbox of Ingress (and of any service that publishes).");
        command.Subcommands.Add(status);
        return command;
    }
}
