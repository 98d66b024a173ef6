using System.CommandLine;
using Pipeline.Benchmarks;

// Benchmarks print figures for a variant and a baseline measured in the same run, alternating runs so drift on a
// shared machine hits both alike.
//   accept-path: the database work of accepting a webhook, Ingress's way against the straightforward way.
//   http:        signed webhooks through a running Ingress against a bare endpoint that only verifies.
//   normalize:   a verified body turned into its message, per provider (CPU only, no database).
//   deliveries:  outbound webhooks fanned out to local receivers against a bare HttpClient loop.
//   e2e-bodies, e2e-floor, bus-floor: helpers of benchmarks/e2e/run.sh (the deployed services driven by wrk).
var postgres = new Option<string?>("--postgres")
{
    Description = "An Npgsql connection string; a throw-away database is created next to it (default: PIPELINE_TEST_POSTGRES, else SQLite)",
    DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PIPELINE_TEST_POSTGRES"),
    Recursive = true,
};
var events = new Option<int>("--events") { Description = "Webhooks per measured run", DefaultValueFactory = _ => 3000, Recursive = true };
var concurrency = new Option<int>("--concurrency") { Description = "Webhooks in flight", DefaultValueFactory = _ => 16, Recursive = true };
var rounds = new Option<int>("--rounds") { Description = "Measured runs per variant (the median is reported)", DefaultValueFactory = _ => 3, Recursive = true };

var acceptPath = new Command("accept-path", "Receipt and outbox row in one commit: group-committed, insert-first (Ingress) against a transaction per request that queries first.");
acceptPath.SetAction(async (parse, ct) =>
{
    await using var database = await BenchDatabase.CreateAsync(parse.GetValue(postgres), ct);
    var bench = new AcceptBench(database.Services, database.Baseline, parse.GetValue(events), parse.GetValue(concurrency));
    Console.WriteLine($"accept path on {database.Description}: {parse.GetValue(events)} webhooks per run, {parse.GetValue(concurrency)} in flight, " +
                      $"median of {parse.GetValue(rounds)} runs; {Environment.ProcessorCount} cores");
    await bench.RunAsync(0.0, 1, ct); // warm-up: JIT, connection pool, query plans
    foreach (var duplicates in new[] { 0.0, 0.2 })
    {
        await Compare.PrintAsync($"{duplicates:P0} duplicates", parse.GetValue(rounds),
            ("baseline (a transaction per request, query, then insert)", () => bench.RunAsync(duplicates, 0, ct)),
            ("Ingress (group commit, insert first)", () => bench.RunAsync(duplicates, 1, ct)));
    }
});

var http = new Command("http", "Signed E2B webhooks over loopback HTTP: Ingress (in-memory bus) against a bare endpoint that only verifies the signature.");
http.SetAction(async (parse, ct) =>
{
    await using var database = await BenchDatabase.CreateAsync(parse.GetValue(postgres), ct);
    await HttpBench.RunAsync(database, parse.GetValue(events), parse.GetValue(concurrency), parse.GetValue(rounds), ct);
});

var normalize = new Command("normalize", "Provider bodies turned into messages, on one thread: the CPU part of accepting a webhook (no database); --events is multiplied by 100.");
normalize.SetAction(parse => NormalizeBench.Run(parse.GetValue(events) * 100, parse.GetValue(rounds)));

var endpoints = new Option<int>("--endpoints") { Description = "deliveries: endpoints every event fans out to", DefaultValueFactory = _ => 10 };
var deliveries = new Command("deliveries", "Outbound webhooks fanned out to local receivers: the Deliveries service against a bare HttpClient loop sending the same requests.")
{
    endpoints,
};
deliveries.SetAction(async (parse, ct) =>
{
    await using var database = await BenchDatabase.CreateAsync(parse.GetValue(postgres), ct);
    await DeliveriesBench.RunAsync(database, parse.GetValue(events), parse.GetValue(endpoints), parse.GetValue(rounds), ct);
});

var provider = new Option<string>("--provider") { Description = "e2b or new-api", Required = true };
var users = new Option<int>("--users") { Description = "Sandboxes (e2b) or accounts (new-api) the events are spread over", DefaultValueFactory = _ => 1000 };
var secret = new Option<string>("--secret") { Description = "The provider's webhook secret (default: BENCH_SECRET)", DefaultValueFactory = _ => Environment.GetEnvironmentVariable("BENCH_SECRET") ?? "" };
var output = new Option<string>("--out") { Description = "File to write", Required = true };
var e2eBodies = new Command("e2e-bodies", "Writes --events uniquely signed requests, one a line, for benchmarks/e2e/requests.lua.") { provider, users, secret, output };
e2eBodies.SetAction((parse, ct) => EndToEnd.WriteBodiesAsync(parse.GetValue(provider)!, parse.GetValue(events), parse.GetValue(users),
    RequireSecret(parse.GetValue(secret)), parse.GetValue(output)!, ct));

var port = new Option<int>("--port") { Description = "Loopback port to listen on", Required = true };
var e2eFloor = new Command("e2e-floor", "A bare endpoint that reads an E2B webhook, checks its signature and answers (runs until stopped).") { port, secret };
e2eFloor.SetAction((parse, ct) => EndToEnd.RunFloorAsync(parse.GetValue(port), RequireSecret(parse.GetValue(secret)), ct));

var broker = new Option<string>("--rabbitmq") { Description = "Broker URI, vhost in the path", Required = true };
var prefetch = new Option<int>("--prefetch") { Description = "Consumer prefetch (256: what the group-committed consumers take at once by default)", DefaultValueFactory = _ => 256 };
var busFloor = new Command("bus-floor", "MassTransit publish with confirms to a quorum queue and consume in one process: --events messages, --concurrency publishes in flight.") { broker, prefetch };
busFloor.SetAction((parse, ct) => EndToEnd.RunBusFloorAsync(new Uri(parse.GetValue(broker)!), parse.GetValue(events), parse.GetValue(concurrency), parse.GetValue(prefetch), ct));

var root = new RootCommand("Pipeline benchmarks: figures against a baseline measured in the same run.") { postgres, events, concurrency, rounds, acceptPath, http, normalize, deliveries, e2eBodies, e2eFloor, busFloor };
return await root.Parse(args).InvokeAsync();

static string RequireSecret(string? value) =>
    string.IsNullOrEmpty(value) ? throw new ArgumentException("--secret (or BENCH_SECRET) is required") : value;
