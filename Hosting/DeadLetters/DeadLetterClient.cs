using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.RateLimiting;
using Pipeline.Hosting.Bus;
using RabbitMQ.Client;

namespace Pipeline.Hosting.DeadLetters;

/// <summary>
/// Lists, inspects, replays and purges MassTransit's <c>&lt;queue&gt;_error</c> queues, and no other: a queue is named
/// by its consumer queue (<c>credits-usage</c>), its isolation queue or its error queue, and each of them means the
/// error queue, so no caller can read or remove the live messages of a consumer queue. Nothing is lost at any step:
/// a dead letter is acknowledged only after its replayed copy was confirmed by the broker; whatever is not
/// replayed or purged is returned to its queue. A crash in between leaves at worst a duplicate in the source
/// queue, which the consumer's inbox recognises by its unchanged MessageId.
/// </summary>
public sealed class DeadLetterClient : IAsyncDisposable
{
    public const string ErrorSuffix = PipelineQueues.ErrorSuffix;
    /// <summary>Replayed letters whose publisher confirms are awaited together.</summary>
    private const int ConfirmBatch = 64;

    /// <summary>Headers of the failure, not of the message: a replay starts afresh, with the whole retry schedule.</summary>
    private static readonly string[] FaultHeaderPrefixes =
    [
        "MT-Fault-", "MT-Reason", "MT-Host-", "Pipeline-Redelivery-", "Pipeline-Isolated-",
        "x-death", "x-first-death-", "x-last-death-", "x-delivery-count",
    ];

    private readonly IConnection _connection;
    private readonly HttpClient _management;
    private readonly string _vhost;

    private DeadLetterClient(IConnection connection, HttpClient management, string vhost)
    {
        _connection = connection;
        _management = management;
        _vhost = vhost;
    }

    /// <param name="amqp">amqp://user:password@host:port/vhost</param>
    /// <param name="management">The management API, e.g. http://host:15672/ (same credentials; https for an amqps broker).</param>
    public static async Task<DeadLetterClient> ConnectAsync(Uri amqp, Uri management, CancellationToken cancellationToken = default)
    {
        if (ManagementApi.Problem(amqp, management.OriginalString, nameof(management)) is { } problem)
        {
            throw new ArgumentException(problem, nameof(management));
        }

        var factory = new ConnectionFactory { Uri = amqp, ClientProvidedName = "pipeline-ops" };
        var connection = await factory.CreateConnectionAsync(cancellationToken);
        var http = new HttpClient { BaseAddress = management };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{factory.UserName}:{factory.Password}")));
        return new DeadLetterClient(connection, http, factory.VirtualHost);
    }

    /// <summary>
    /// The dead-letter queues and their counts, from the management API's queue list and a passive declare per queue:
    /// no message is read, so none is redelivered or has its delivery count raised. Cheap enough to poll.
    /// </summary>
    /// <param name="queue">Only the dead letters of this queue (see <see cref="DeadLetterQueueOf"/>); null for every _error queue.</param>
    public async Task<IReadOnlyList<DeadLetterQueue>> ListQueuesAsync(string? queue, CancellationToken cancellationToken = default)
    {
        var wanted = queue is null ? null : DeadLetterQueueOf(queue);
        var all = await _management.GetFromJsonAsync<JsonElement>($"api/queues/{Uri.EscapeDataString(_vhost)}", cancellationToken);
        var queues = all.EnumerateArray()
            .Select(q => (Name: q.GetProperty("name").GetString()!, Unacknowledged: Count(q, "messages_unacknowledged")))
            .Where(q => wanted is null ? q.Name.EndsWith(ErrorSuffix, StringComparison.Ordinal) : q.Name == wanted)
            .OrderBy(q => q.Name, StringComparer.Ordinal)
            .ToList();

        // The management API's counts lag by seconds; the broker's own count of ready messages does not.
        await using var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var result = new List<DeadLetterQueue>(queues.Count);
        foreach (var (name, unacknowledged) in queues)
        {
            var ready = (await channel.QueueDeclarePassiveAsync(name, cancellationToken)).MessageCount;
            result.Add(new DeadLetterQueue(name, ready + unacknowledged, ready, unacknowledged));
        }

        return result;
    }

    /// <summary>
    /// The dead-letter queue an operator means by a queue name: <c>q_error</c> for <c>q</c>, <c>q_isolated</c> and
    /// <c>q_error</c> itself. Never a queue that consumers read.
    /// </summary>
    public static string DeadLetterQueueOf(string queue) =>
        queue.EndsWith(ErrorSuffix, StringComparison.Ordinal) ? queue : PipelineQueues.ErrorQueue(queue);

    /// <summary>
    /// How many of these letters carry the MessageId of another one. Dead-lettering is at least once (a crash between
    /// a move's publish and its acknowledgement leaves two copies), and a replay applies each message once.
    /// </summary>
    public static int Repeats(IReadOnlyCollection<DeadLetter> letters) =>
        letters.Count - letters.DistinctBy(l => l.MessageId ?? "", StringComparer.OrdinalIgnoreCase).Count();

    /// <summary>Reads up to <paramref name="max"/> dead letters of a queue (see <see cref="DeadLetterQueueOf"/>) without removing any of them.</summary>
    public async Task<IReadOnlyList<DeadLetter>> BrowseAsync(string queue, int max, CancellationToken cancellationToken = default)
    {
        queue = DeadLetterQueueOf(queue);
        var letters = new List<DeadLetter>();
        await using var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var held = new List<ulong>();
        try
        {
            while (letters.Count < max && await channel.BasicGetAsync(queue, autoAck: false, cancellationToken) is { } message)
            {
                held.Add(message.DeliveryTag);
                letters.Add(DeadLetter.From(queue, message.BasicProperties, message.Body));
            }
        }
        finally
        {
            await ReturnAsync(channel, held);
        }

        return letters;
    }

    /// <summary>
    /// Republishes the matching dead letters of each queue to the queue they failed in, with their original body,
    /// properties and MessageId, the fault headers removed and a replay count added.
    /// </summary>
    public Task<ReplayReport> ReplayAsync(DeadLetterFilter filter, bool dryRun, double? perSecond, CancellationToken cancellationToken = default) =>
        ProcessAsync(filter, dryRun, perSecond, replay: true, cancellationToken);

    /// <summary>Removes the matching dead letters for good.</summary>
    public Task<ReplayReport> PurgeAsync(DeadLetterFilter filter, bool dryRun, CancellationToken cancellationToken = default) =>
        ProcessAsync(filter, dryRun, perSecond: null, replay: false, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _connection.CloseAsync();
        _connection.Dispose();
        _management.Dispose();
    }

    private async Task<ReplayReport> ProcessAsync(
        DeadLetterFilter filter, bool dryRun, double? perSecond, bool replay, CancellationToken cancellationToken)
    {
        using var limiter = perSecond is > 0 ? Limiter(perSecond.Value) : null;
        int scanned = 0, matched = 0, done = 0, failed = 0;
        var errors = new List<string>();
        foreach (var queue in await ListQueuesAsync(filter.Queue, cancellationToken))
        {
            await using var channel = await _connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
                cancellationToken);
            var held = new List<ulong>();
            var pending = new List<Pending>();
            var doneBefore = done;
            try
            {
                // Only what was there when we started: letters that fail again meanwhile are not chased in a loop.
                var present = (await channel.QueueDeclarePassiveAsync(queue.Name, cancellationToken)).MessageCount;
                for (var i = 0; i < present; i++)
                {
                    if (await channel.BasicGetAsync(queue.Name, autoAck: false, cancellationToken) is not { } message)
                    {
                        break;
                    }

                    scanned++;
                    var letter = DeadLetter.From(queue.Name, message.BasicProperties, message.Body);
                    if (!filter.Matches(letter) || dryRun)
                    {
                        matched += filter.Matches(letter) ? 1 : 0;
                        held.Add(message.DeliveryTag);
                        continue;
                    }

                    matched++;
                    if (replay && limiter is not null)
                    {
                        using var lease = await limiter.AcquireAsync(1, cancellationToken);
                    }

                    // A replay's publish is confirmed before its letter is acknowledged, but up to ConfirmBatch
                    // confirms are awaited together rather than one round trip (and one disk sync) at a time.
                    pending.Add(new Pending(message.DeliveryTag, letter.MessageId, replay
                        ? channel.BasicPublishAsync("", letter.SourceQueue, mandatory: true,
                            ReplayProperties(message.BasicProperties), message.Body.ToArray(), cancellationToken).AsTask()
                        : Task.CompletedTask));
                    if (pending.Count >= ConfirmBatch)
                    {
                        await SettleAsync();
                    }
                }

                await SettleAsync();

                // A quorum queue can drop acks that reach it just before the channel closes (rabbitmq-server#10327),
                // which would leave a replayed letter in the dead letters as well. A basic.get reaches the queue
                // after those acks and is answered only once they are applied; what it takes is returned below.
                if (done > doneBefore && await channel.BasicGetAsync(queue.Name, autoAck: false, cancellationToken) is { } last)
                {
                    held.Add(last.DeliveryTag);
                }
            }
            finally
            {
                await ReturnAsync(channel, [.. held, .. pending.Select(p => p.DeliveryTag)]);
            }

            // Acknowledges each letter whose publish was confirmed; keeps the others where they are. An item leaves
            // `pending` only once settled, so what an interruption leaves there is still unacknowledged.
            async Task SettleAsync()
            {
                while (pending.Count > 0)
                {
                    var item = pending[0];
                    try
                    {
                        await item.Published;
                        await channel.BasicAckAsync(item.DeliveryTag, multiple: false, cancellationToken);
                        done++;
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        failed++;
                        held.Add(item.DeliveryTag);
                        errors.Add($"{item.MessageId}: {ex.GetType().Name}: {ex.Message}");
                    }

                    pending.RemoveAt(0);
                }
            }
        }

        return new ReplayReport(scanned, matched, done, failed, errors);
    }

    private readonly record struct Pending(ulong DeliveryTag, string? MessageId, Task Published);

    /// <summary>Smooth rather than bursty: a token every 1/rate seconds, in tenths of a second above 10/s.</summary>
    private static TokenBucketRateLimiter Limiter(double perSecond)
    {
        var perTick = Math.Max(1, (int)Math.Round(perSecond / 10));
        return new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = perTick,
            TokensPerPeriod = perTick,
            ReplenishmentPeriod = TimeSpan.FromSeconds(perTick / perSecond),
            QueueLimit = int.MaxValue,
            AutoReplenishment = true,
        });
    }

    private static BasicProperties ReplayProperties(IReadOnlyBasicProperties original)
    {
        var properties = new BasicProperties(original) { Persistent = true };
        var headers = new Dictionary<string, object?>();
        var count = 0;
        foreach (var (key, value) in original.Headers ?? new Dictionary<string, object?>())
        {
            if (key == "Pipeline-Replay-Count")
            {
                int.TryParse(DeadLetter.HeaderText(value), out count);
            }
            else if (!FaultHeaderPrefixes.Any(p => key.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
            {
                headers[key] = value;
            }
        }

        headers["Pipeline-Replay-Count"] = count + 1;
        headers["Pipeline-Replayed-At"] = DateTimeOffset.UtcNow.ToString("O");
        properties.Headers = headers;
        return properties;
    }

    /// <summary>Gives back every message still held by this channel, in one call.</summary>
    private static async Task ReturnAsync(IChannel channel, List<ulong> held)
    {
        if (held.Count > 0 && channel.IsOpen)
        {
            await channel.BasicNackAsync(held.Max(), multiple: true, requeue: true);
        }
    }

    private static long Count(JsonElement queue, string property) =>
        queue.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : 0;
}
