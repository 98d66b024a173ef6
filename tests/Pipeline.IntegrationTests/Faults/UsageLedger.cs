using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using Pipeline.IntegrationTests.Credits;
using Pipeline.IntegrationTests.Infrastructure;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Faults;

/// <summary>
/// The fault suite's bookkeeping, kept by the sender as a load harness keeps it: every usage event it sent, which
/// were accepted (2xx), and at the end what the pipeline did with them. <see cref="SettleAsync"/> asserts the two
/// laws of the pipeline: accepted == applied + dead letters (nothing lost), and one ledger entry per applied
/// request id with each balance the exact sum of its deductions (nothing twice).
/// The sender behaves like a provider: a 429, a 5xx or a dropped connection is retried with the same signed body.
/// </summary>
internal sealed class UsageLedger
{
    public const string Queue = "credits-usage";
    public const string ErrorQueue = Queue + "_error";
    private const decimal QuotaPerCredit = 500_000m;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(240);
    private const int MaxAttempts = 90;

    private readonly TestServices _services;
    private readonly PipelineTopology _pipeline;
    private readonly string _secret;
    private readonly string _prefix;
    private readonly string[] _users;
    private readonly ITestOutputHelper _output;
    private readonly ConcurrentDictionary<string, Usage> _accepted = new();
    private readonly ConcurrentQueue<Usage> _acceptedInOrder = new();
    private readonly ConcurrentDictionary<string, decimal> _topUps = new();
    private readonly ConcurrentQueue<string> _refusals = new();
    private int _next;
    private int _sent;
    private int _resent;
    private int _resentReportedDuplicate;
    private int _senderRetries;

    public UsageLedger(TestServices services, PipelineTopology pipeline, string secret, string prefix, string[] users, ITestOutputHelper output)
    {
        _services = services;
        _pipeline = pipeline;
        _secret = secret;
        _prefix = prefix;
        _users = users;
        _output = output;
    }

    public sealed record Usage(string RequestId, string User, long Quota, string Body);

    /// <summary>Distinct usage events Ingress accepted so far.</summary>
    public int Accepted => _accepted.Count;

    /// <summary>A new usage event with a request id never sent before, sent until Ingress answers (and accepted if 2xx).</summary>
    public Task SendNewAsync(CancellationToken cancellationToken = default)
    {
        var n = Interlocked.Increment(ref _next);
        var user = _users[Random.Shared.Next(_users.Length)];
        var quota = (long)Random.Shared.Next(1, 2_000_000);
        var requestId = $"{_prefix}-{n:D6}";
        return SendAsync(new Usage(requestId, user, quota, NewApiEvents.Consume(requestId, user, quota)), resend: false, cancellationToken);
    }

    /// <summary>Sends an already accepted event again, as a provider whose response got lost would.</summary>
    public Task ResendAsync(CancellationToken cancellationToken = default)
    {
        var accepted = _acceptedInOrder.ToArray();
        return accepted.Length == 0
            ? SendNewAsync(cancellationToken)
            : SendAsync(accepted[Random.Shared.Next(accepted.Length)], resend: true, cancellationToken);
    }

    /// <summary>
    /// Sends about <paramref name="perSecond"/> events a second (each <paramref name="resendEvery"/>th a re-send)
    /// with at most 16 in flight, until the returned stream is stopped.
    /// </summary>
    public SteadyStream StartStream(int perSecond = 40, int resendEvery = 10) => new(this, perSecond, resendEvery);

    /// <summary>Waits until <paramref name="more"/> further distinct events have been accepted.</summary>
    public async Task WaitForAcceptedAsync(int more, string why)
    {
        var target = Accepted + more;
        await Eventually.WaitAsync(() => Task.FromResult(Accepted), n => n >= target, Deadline, $"{more} more accepted events ({why})", _pipeline.Diagnostics);
    }

    /// <summary>Usage deductions in the Credits ledger now.</summary>
    public Task<long> AppliedAsync() =>
        _pipeline.CountAsync("""SELECT count(*) FROM credits_ledger WHERE "Kind" = 'deduction'""", "Credits");

    public async Task WaitForAppliedAsync(long atLeast, string why) =>
        await Eventually.WaitAsync(AppliedAsync, n => n >= atLeast, Deadline, $"{atLeast} deductions applied ({why})", _pipeline.Diagnostics);

    public Task<uint> DeadLettersAsync() => Broker.ReadyAsync(_services, _pipeline, ErrorQueue);

    /// <summary>Opens (or adds to) a user's account through the Credits admin API.</summary>
    public async Task TopUpAsync(string user, decimal amount, string adminKey)
    {
        var http = _pipeline.ConsumerHttp[ConsumerService.Credits];
        using var request = new HttpRequestMessage(HttpMethod.Post, $"api/accounts/{user}/top-ups")
        {
            Content = JsonContent.Create(new { amount, reference = $"{_prefix}-top-up-{user}" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        _topUps.AddOrUpdate(user, amount, (_, a) => a + amount);
    }

    /// <summary>
    /// Waits until the pipeline is quiet (Ingress outbox published, every accepted event either applied or dead-lettered,
    /// the consumer's queues empty), then checks the ledger against what was accepted, prints the figures and
    /// returns them.
    /// </summary>
    /// <param name="foreignDeadLetters">Dead letters that never went through Ingress (poison published to the broker).</param>
    public async Task<Tally> SettleAsync(string scenario, int foreignDeadLetters = 0)
    {
        var clock = Stopwatch.StartNew();
        await Eventually.WaitAsync(() => _pipeline.CountAsync("""SELECT count(*) FROM ingress_outbox WHERE "SentAt" IS NULL"""), n => n == 0,
            Deadline, "the Ingress outbox to be published", _pipeline.Diagnostics);
        await Eventually.WaitAsync(async () => await AppliedAsync() + await DeadLettersAsync(), n => n == Accepted + foreignDeadLetters,
            Deadline, $"applied + dead letters to reach {Accepted} accepted + {foreignDeadLetters} poison", DeadLetterDiagnostics);
        foreach (var queue in new[] { Queue, Queue + "_isolated" })
        {
            await Eventually.WaitAsync(() => _pipeline.QueueDepthAsync(queue), d => d == (0, 0), Deadline, $"{queue} to be empty", _pipeline.Diagnostics);
        }

        var settled = clock.Elapsed;
        var applied = await LedgerAsync();
        var deadLetters = await BrowseDeadLettersAsync();

        // Nothing twice: one ledger entry per request id, and the amount is that request's quota in credits.
        var rows = applied.Count;
        var byRequest = applied.GroupBy(a => a.RequestId).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(rows, byRequest.Count);
        foreach (var (requestId, entries) in byRequest)
        {
            Assert.True(_accepted.TryGetValue(requestId, out var usage), $"{requestId} was applied but never accepted");
            Assert.Equal(usage!.User, entries[0].User);
            Assert.Equal(-Credits(usage.Quota), entries[0].Amount);
        }

        // Nothing lost: every accepted event is applied or waits in the dead letters, not both.
        var dead = deadLetters.Where(d => d.RequestId is not null && _accepted.ContainsKey(d.RequestId)).Select(d => d.RequestId!).ToList();
        var foreign = deadLetters.Count - dead.Count;
        Assert.Equal(dead.Count, dead.Distinct().Count());
        Assert.DoesNotContain(dead, byRequest.ContainsKey);
        var missing = _accepted.Keys.Where(id => !byRequest.ContainsKey(id) && !dead.Contains(id)).Take(5).ToList();
        Assert.True(missing.Count == 0, $"accepted but neither applied nor dead-lettered: {string.Join(", ", missing)}");
        Assert.Equal(Accepted, rows + dead.Count);
        Assert.Equal(foreignDeadLetters, foreign);

        // Each balance is its top-ups minus exactly the deductions of its applied requests.
        var balances = await BalancesAsync();
        foreach (var user in _users)
        {
            var expected = _topUps.GetValueOrDefault(user) - byRequest.Keys.Where(id => _accepted[id].User == user).Sum(id => Credits(_accepted[id].Quota));
            Assert.Equal(expected, balances.GetValueOrDefault(user));
        }

        Assert.True(_refusals.IsEmpty, $"Ingress refused events: {string.Join("; ", _refusals.Take(5))}");
        Assert.Equal(_resent, _resentReportedDuplicate);

        var poison = deadLetters.Where(d => d.RequestId is null || !_accepted.ContainsKey(d.RequestId)).Select(d => d.Fault).ToList();
        var tally = new Tally(Accepted, rows, dead.Count, poison);
        _output.WriteLine($"[{scenario}]");
        _output.WriteLine($"  sent {_sent} ({_sent - _resent} new, {_resent} re-sent and answered as duplicates), {_senderRetries} sender retries, 0 refused");
        _output.WriteLine($"  accepted {tally.Accepted} == applied {tally.Applied} + dead letters {tally.DeadLetters}" +
                          (foreign > 0 ? $" (and {foreign} poison messages in the dead letters)" : ""));
        _output.WriteLine($"  ledger entries {rows} == distinct request ids {byRequest.Count}; {_users.Length} balances exact; settled {settled.TotalSeconds:0.0} s after asking");
        return tally;
    }

    /// <summary>What the dead letters are (fault, how they got there, replays), then the services' last lines.</summary>
    private string DeadLetterDiagnostics()
    {
        var letters = BrowseDeadLettersAsync(waitForReturn: false).GetAwaiter().GetResult();
        var summary = letters.GroupBy(l => $"{l.Fault} [{l.Route}]").Select(g => $"  {g.Count()} x {g.Key}; e.g. {g.First().RequestId}");
        return $"{letters.Count} dead letters:{Environment.NewLine}{string.Join(Environment.NewLine, summary)}{Environment.NewLine}{_pipeline.Diagnostics()}";
    }

    private static decimal Credits(long quota) => decimal.Round(quota / QuotaPerCredit, 8, MidpointRounding.AwayFromZero);

    private async Task SendAsync(Usage usage, bool resend, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _sent);
        if (resend)
        {
            Interlocked.Increment(ref _resent);
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var response = await _pipeline.IngressHttp.SendAsync(NewApiEvents.SignedRequest(usage.Body, _secret), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    var duplicate = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken)).GetProperty("duplicate").GetBoolean();
                    if (resend && duplicate)
                    {
                        Interlocked.Increment(ref _resentReportedDuplicate);
                    }

                    if (_accepted.TryAdd(usage.RequestId, usage))
                    {
                        _acceptedInOrder.Enqueue(usage);
                    }

                    return;
                }

                if (response.StatusCode != HttpStatusCode.TooManyRequests && (int)response.StatusCode < 500)
                {
                    _refusals.Enqueue($"{usage.RequestId}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
                    return;
                }
            }
            catch (HttpRequestException) when (attempt < MaxAttempts)
            {
            }

            // Up to about 40 s: long enough for Ingress to restart after a kill on a busy machine.
            Assert.True(attempt < MaxAttempts, $"{usage.RequestId} still not accepted after {attempt} attempts");
            Interlocked.Increment(ref _senderRetries);
            await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(50 * attempt, 500)), cancellationToken);
        }
    }

    private sealed record Applied(string RequestId, string User, decimal Amount);

    private async Task<List<Applied>> LedgerAsync()
    {
        await using var connection = new NpgsqlConnection(_pipeline.DatabaseOf("Credits"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "Reference", "UserId", "Amount" FROM credits_ledger WHERE "Kind" = 'deduction'""", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<Applied>();
        while (await reader.ReadAsync())
        {
            rows.Add(new Applied(reader.GetString(0), reader.GetString(1), reader.GetDecimal(2)));
        }

        return rows;
    }

    private async Task<Dictionary<string, decimal>> BalancesAsync()
    {
        await using var connection = new NpgsqlConnection(_pipeline.DatabaseOf("Credits"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""SELECT "UserId", "Balance" FROM credits_accounts""", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var balances = new Dictionary<string, decimal>();
        while (await reader.ReadAsync())
        {
            balances[reader.GetString(0)] = reader.GetDecimal(1);
        }

        return balances;
    }

    /// <param name="Route">How it got there: the broker's dead-letter reason and replay count, if any.</param>
    private sealed record DeadLetter(string? RequestId, string Fault, string Route);

    /// <summary>Reads every dead letter without taking it: all are returned to the queue when the channel closes.</summary>
    private async Task<List<DeadLetter>> BrowseDeadLettersAsync(bool waitForReturn = true)
    {
        var factory = new ConnectionFactory { Uri = new Uri(_services.RabbitMq, _pipeline.Name) };
        await using var connection = await factory.CreateConnectionAsync();
        var letters = new List<DeadLetter>();
        await using (var channel = await connection.CreateChannelAsync())
        {
            while (await channel.BasicGetAsync(ErrorQueue, autoAck: false) is { } delivery)
            {
                var fault = $"{Header(delivery.BasicProperties, "MT-Fault-ExceptionType")}: {Header(delivery.BasicProperties, "MT-Fault-Message")}";
                var route = $"x-first-death-reason {Header(delivery.BasicProperties, "x-first-death-reason") ?? "-"}, " +
                            $"replays {(delivery.BasicProperties.Headers?.TryGetValue("Pipeline-Replay-Count", out var replays) == true ? replays : "-")}, redelivered {delivery.Redelivered}";
                letters.Add(new DeadLetter(RequestIdOf(delivery.Body), fault, route));
            }

            await channel.CloseAsync();
        }

        // The broker puts them back once it has seen the channel close.
        if (waitForReturn)
        {
            await Eventually.WaitAsync(DeadLettersAsync, n => n == letters.Count, Deadline, $"the {letters.Count} browsed dead letters back in {ErrorQueue}");
        }

        return letters;
    }

    private static string? RequestIdOf(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object &&
                   message.TryGetProperty("requestId", out var id) && id.ValueKind == JsonValueKind.String
                ? id.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? Header(IReadOnlyBasicProperties properties, string name) =>
        properties.Headers?.TryGetValue(name, out var value) == true && value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>A paced stream of usage events, running until <see cref="StopAsync"/>.</summary>
    public sealed class SteadyStream
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        internal SteadyStream(UsageLedger ledger, int perSecond, int resendEvery) =>
            _loop = RunAsync(ledger, perSecond, resendEvery, _stop.Token);

        /// <summary>Stops sending and waits for the events in flight to be answered.</summary>
        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await _loop;
        }

        private static async Task RunAsync(UsageLedger ledger, int perSecond, int resendEvery, CancellationToken stop)
        {
            using var inFlight = new SemaphoreSlim(16);
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1.0 / perSecond));
            var sends = new List<Task>();
            var n = 0;
            try
            {
                while (await timer.WaitForNextTickAsync(stop))
                {
                    await inFlight.WaitAsync(stop);
                    var send = ++n % resendEvery == 0 ? ledger.ResendAsync() : ledger.SendNewAsync();
                    sends.Add(send.ContinueWith(t =>
                    {
                        inFlight.Release();
                        return t;
                    }, TaskScheduler.Default).Unwrap());
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }

            await Task.WhenAll(sends);
        }
    }
}

/// <summary>
/// One scenario's figures: distinct events accepted, applied, and waiting in the dead letters; and the faults
/// ("exception type: message") of dead letters that never went through Ingress.
/// </summary>
internal sealed record Tally(int Accepted, int Applied, int DeadLetters, IReadOnlyList<string> PoisonFaults);
