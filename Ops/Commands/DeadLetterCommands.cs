using System.CommandLine;
using Pipeline.Hosting.DeadLetters;

namespace Pipeline.Ops.Commands;

/// <summary>dead-letters list | show | replay | purge</summary>
public static class DeadLetterCommands
{
    private static readonly Option<string?> Queue = new("--queue")
    {
        Description = "Only the dead letters of this queue (credits-usage, or its _error or _isolated queue: always its _error queue)",
    };
    private static readonly Option<string?> ExceptionType = new("--exception") { Description = "Exception type contains this text" };
    private static readonly Option<string?> MessageType = new("--message-type") { Description = "Message type contains this text" };
    private static readonly Option<string?> MessageId = new("--id") { Description = "Only the dead letter with this MessageId" };
    private static readonly Option<DateTimeOffset?> Since = new("--since") { Description = "Faulted at or after (ISO 8601)" };
    private static readonly Option<DateTimeOffset?> Until = new("--until") { Description = "Faulted at or before (ISO 8601)" };
    private static readonly Option<bool> DryRun = new("--dry-run") { Description = "Count what would be affected; change nothing" };

    public static Command Build(Func<ParseResult, CancellationToken, Task<DeadLetterClient>> connect)
    {
        var command = new Command("dead-letters", "Inspect, replay and purge the <queue>_error queues.");
        command.Subcommands.Add(Count(connect));
        command.Subcommands.Add(List(connect));
        command.Subcommands.Add(Show(connect));
        command.Subcommands.Add(Replay(connect));
        command.Subcommands.Add(Purge(connect));
        return command;
    }

    private static Command Count(Func<ParseResult, CancellationToken, Task<DeadLetterClient>> connect)
    {
        var command = new Command("count", "Per queue: how many dead letters, from the broker's queue counts alone (no message is read).") { Queue };
        command.SetAction(async (parse, ct) =>
        {
            await using var client = await connect(parse, ct);
            if (await QueuesAsync(client, parse, ct) is not { } queues)
            {
                return 0;
            }

            foreach (var queue in queues)
            {
                Console.WriteLine($"{queue.Name}: {queue.Messages} dead letters ({queue.Unacknowledged} being handled)");
            }

            Console.WriteLine($"total: {queues.Sum(q => q.Messages)}");
            return 0;
        });
        return command;
    }

    /// <summary>The dead-letter queues to report on (<c>--queue</c>), or null after saying there are none.</summary>
    private static async Task<IReadOnlyList<DeadLetterQueue>?> QueuesAsync(DeadLetterClient client, ParseResult parse, CancellationToken ct)
    {
        var queues = await client.ListQueuesAsync(parse.GetValue(Queue), ct);
        if (queues.Count == 0)
        {
            Console.WriteLine("No dead-letter queues.");
            return null;
        }

        return queues;
    }

    private static Command List(Func<ParseResult, CancellationToken, Task<DeadLetterClient>> connect)
    {
        var max = new Option<int>("--max") { Description = "Dead letters read per queue to group them", DefaultValueFactory = _ => 10_000 };
        var command = new Command("list", "Per queue: count, oldest, and counts by exception and message type (reads every letter; see count for a cheap view).") { Queue, max };
        command.SetAction(async (parse, ct) =>
        {
            await using var client = await connect(parse, ct);
            if (await QueuesAsync(client, parse, ct) is not { } queues)
            {
                return 0;
            }

            foreach (var queue in queues)
            {
                var letters = await client.BrowseAsync(queue.Name, parse.GetValue(max), ct);
                var oldest = letters.Where(l => l.FaultedAt is not null).Select(l => l.FaultedAt).Min();
                Console.WriteLine($"{queue.Name}: {queue.Messages} dead letters ({queue.Unacknowledged} being handled), oldest {oldest?.ToString("O") ?? "-"}");
                if (DeadLetterClient.Repeats(letters) is > 0 and var repeats)
                {
                    Console.WriteLine($"  {repeats} of them repeat the MessageId of another (dead-lettered twice, e.g. by a crash before an acknowledgement); a replay applies each message once");
                }

                foreach (var group in letters.GroupBy(l => (l.ExceptionType ?? "?", l.MessageType ?? "?")).OrderByDescending(g => g.Count()))
                {
                    Console.WriteLine($"  {group.Count(),6}  {group.Key.Item1}  {group.Key.Item2}");
                }
            }

            return 0;
        });
        return command;
    }

    private static Command Show(Func<ParseResult, CancellationToken, Task<DeadLetterClient>> connect)
    {
        var id = new Argument<string>("message-id") { Description = "The dead letter's MessageId" };
        var command = new Command("show", "Body, fault headers and first stack frame of one dead letter.") { id, Queue };
        command.SetAction(async (parse, ct) =>
        {
            await using var client = await connect(parse, ct);
            foreach (var queue in await client.ListQueuesAsync(parse.GetValue(Queue), ct))
            {
                var letter = (await client.BrowseAsync(queue.Name, int.MaxValue, ct))
                    .FirstOrDefault(l => string.Equals(l.MessageId, parse.GetValue(id), StringComparison.OrdinalIgnoreCase));
                if (letter is null)
                {
                    continue;
                }

                Console.WriteLine($"queue:        {letter.Queue} (replays to {letter.SourceQueue})");
                Console.WriteLine($"message id:   {letter.MessageId}");
                Console.WriteLine($"message type: {letter.MessageType}");
                Console.WriteLine($"faulted at:   {letter.FaultedAt:O}");
                Console.WriteLine($"exception:    {letter.ExceptionType}: {letter.ExceptionMessage}");
                Console.WriteLine($"first frame:  {letter.FirstStackFrame}");
                Console.WriteLine("headers:");
                foreach (var (key, value) in letter.Headers.Where(h => h.Key != "MT-Fault-StackTrace").OrderBy(h => h.Key, StringComparer.Ordinal))
                {
                    Console.WriteLine($"  {key}: {value}");
                }

                Console.WriteLine("body:");
                Console.WriteLine(letter.Body);
                return 0;
            }

            Console.Error.WriteLine($"No dead letter with MessageId {parse.GetValue(id)}.");
            return 2;
        });
        return command;
    }

    private static Command Replay(Func<ParseResult, CancellationToken, Task<DeadLetterClient>> connect)
    {
        var rate = new Option<double?>("--rate") { Description = "At most this many replays per second (default: unlimited)" };
        var command = new Command("replay", "Send matching dead letters back to the queue they failed in (original MessageId kept).")
        {
            Queue, MessageId, ExceptionType, MessageType, Since, Until, DryRun, rate,
        };
        command.SetAction(async (parse, ct) =>
        {
            await using var client = await connect(parse, ct);
            var dryRun = parse.GetValue(DryRun);
            var report = await client.ReplayAsync(Filter(parse), dryRun, parse.GetValue(rate), ct);
            return Print("replayed", report, dryRun);
        });
        return command;
    }

    private static Command Purge(Func<ParseResult, CancellationToken, Task<DeadLetterClient>> connect)
    {
        var yes = new Option<bool>("--yes") { Description = "Required: purged dead letters are gone for good" };
        var command = new Command("purge", "Delete matching dead letters.") { Queue, MessageId, ExceptionType, MessageType, Since, Until, DryRun, yes };
        command.SetAction(async (parse, ct) =>
        {
            var dryRun = parse.GetValue(DryRun);
            if (!dryRun && !parse.GetValue(yes))
            {
                Console.Error.WriteLine("purge deletes dead letters for good: add --yes (or --dry-run to count them).");
                return 2;
            }

            await using var client = await connect(parse, ct);
            var report = await client.PurgeAsync(Filter(parse), dryRun, ct);
            return Print("purged", report, dryRun);
        });
        return command;
    }

    private static DeadLetterFilter Filter(ParseResult parse) => new(
        parse.GetValue(Queue), parse.GetValue(MessageId), parse.GetValue(ExceptionType), parse.GetValue(MessageType),
        parse.GetValue(Since), parse.GetValue(Until));

    private static int Print(string verb, ReplayReport report, bool dryRun)
    {
        Console.WriteLine(dryRun
            ? $"dry run: {report.Matched} of {report.Scanned} dead letters match; nothing changed"
            : $"{verb} {report.Replayed} of {report.Matched} matching ({report.Scanned} scanned), {report.Failed} failed and kept");
        foreach (var error in report.Errors)
        {
            Console.Error.WriteLine("  " + error);
        }

        return report.Failed == 0 ? 0 : 1;
    }
}
