using System.CommandLine;
using System.Net;
using System.Text.Json;
using Pipeline.Ops.Deliveries;

namespace Pipeline.Ops.Commands;

/// <summary>
/// endpoints add|list|show|disable|enable|rotate|test|listen and deliveries list|show|resend|recover: outbound
/// webhooks, through the Deliveries service's API.
/// </summary>
public static class DeliveriesCommands
{
    private static readonly Option<string> Service = new("--deliveries")
    {
        Description = "Deliveries service base address (env PIPELINE_DELIVERIES_URL)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PIPELINE_DELIVERIES_URL") ?? "http://127.0.0.1:5085/",
        Recursive = true,
    };

    private static readonly Option<string?> AdminKey = new("--admin-key")
    {
        Description = "The admin bearer key (env ADMIN_API_KEY)",
        Recursive = true,
    };

    public static Command Endpoints()
    {
        var command = new Command("endpoints", "Outbound webhook endpoints: where events are sent.") { Service, AdminKey };
        command.Subcommands.Add(Add());
        command.Subcommands.Add(Simple("list", "Every endpoint.", null, (api, _, ct) => api.GetAsync("api/endpoints", ct), PrintEndpoints));
        command.Subcommands.Add(Simple("show", "One endpoint.", "id", (api, id, ct) => api.GetAsync($"api/endpoints/{id}", ct), PrintJson));
        command.Subcommands.Add(Simple("disable", "Stop sending to an endpoint (matching events are kept as skipped).", "id",
            (api, id, ct) => api.PostAsync($"api/endpoints/{id}/disable", null, ct), PrintEndpoint));
        command.Subcommands.Add(Simple("enable", "Send to an endpoint again (then recover what it missed).", "id",
            (api, id, ct) => api.PostAsync($"api/endpoints/{id}/enable", null, ct), PrintEndpoint));
        command.Subcommands.Add(Simple("rotate", "A new signing secret; the old one keeps signing beside it for the overlap.", "id",
            (api, id, ct) => api.PostAsync($"api/endpoints/{id}/rotate-secret", null, ct), PrintSecret));
        command.Subcommands.Add(Simple("test", "Send a webhook.test event and show the receiver's answer.", "id",
            (api, id, ct) => api.PostAsync($"api/webhooks/{id}/test", null, ct), PrintTest));
        command.Subcommands.Add(Listen());
        return command;
    }

    public static Command Deliveries()
    {
        var command = new Command("deliveries", "Outbound webhook deliveries: their attempts, resend and recover.") { Service, AdminKey };
        command.Subcommands.Add(List());
        command.Subcommands.Add(Simple("show", "One delivery with every attempt.", "id", (api, id, ct) => api.GetAsync($"api/deliveries/{id}", ct), PrintJson));
        command.Subcommands.Add(Simple("resend", "Send a delivery again (same webhook-id), starting the retry schedule again.", "id",
            (api, id, ct) => api.PostAsync($"api/deliveries/{id}/resend", null, ct), json => Console.WriteLine($"delivery {json.GetProperty("deliveryId")} is pending again")));
        command.Subcommands.Add(Recover());
        return command;
    }

    private static Command Add()
    {
        var url = new Argument<string>("url") { Description = "Where to POST events (https unless the service allows http)" };
        var events = new Option<string[]>("--events") { Description = "Event types: names, prefix.* or * (repeat, or comma-separated)", Required = true, AllowMultipleArgumentsPerToken = true };
        var description = new Option<string?>("--description") { Description = "What this endpoint is" };
        var headers = new Option<string[]>("--header") { Description = "An extra request header, 'Name: value' (repeat for more)" };
        var scheme = new Option<string>("--scheme") { Description = "standard-webhooks or hmac-sha256 (seed 004)", DefaultValueFactory = _ => "standard-webhooks" };
        scheme.AcceptOnlyFromAmong("standard-webhooks", "hmac-sha256");
        var rate = new Option<int?>("--rate") { Description = "At most this many sends a second" };
        var command = new Command("add", "Register an endpoint; prints its id and its secret (shown only now).") { url, events, description, headers, scheme, rate };
        command.SetAction(async (parse, ct) =>
        {
            var extra = new Dictionary<string, string>();
            foreach (var header in parse.GetValue(headers) ?? [])
            {
                var colon = header.IndexOf(':');
                if (colon <= 0)
                {
                    return Usage($"--header '{header}' must be 'Name: value'.");
                }

                extra[header[..colon].Trim()] = header[(colon + 1)..].Trim();
            }

            return await RunAsync(parse, api => api.PostAsync("api/endpoints", new
            {
                url = parse.GetValue(url),
                eventTypes = Split(parse.GetValue(events)),
                description = parse.GetValue(description),
                headers = extra.Count == 0 ? null : extra,
                scheme = parse.GetValue(scheme),
                rateLimitPerSecond = parse.GetValue(rate),
            }, ct), PrintSecret);
        });
        return command;
    }

    private static Command List()
    {
        var endpoint = new Option<string>("--endpoint") { Description = "The endpoint id", Required = true };
        var status = new Option<string?>("--status") { Description = "pending, delivered, failed or skipped" };
        status.AcceptOnlyFromAmong("pending", "delivered", "failed", "skipped");
        var limit = new Option<int>("--limit") { Description = "How many, newest first", DefaultValueFactory = _ => 50 };
        var command = new Command("list", "An endpoint's deliveries, newest first.") { endpoint, status, limit };
        command.SetAction((parse, ct) => RunAsync(parse, api => api.GetAsync(
            $"api/endpoints/{parse.GetValue(endpoint)}/deliveries?limit={parse.GetValue(limit)}" +
            (parse.GetValue(status) is { } s ? $"&status={s}" : ""), ct), json =>
        {
            foreach (var d in json.GetProperty("deliveries").EnumerateArray())
            {
                Console.WriteLine($"{d.GetProperty("id")}  {d.GetProperty("status"),-9}  {d.GetProperty("eventType"),-24} attempts {d.GetProperty("attempts")}  " +
                                  $"created {d.GetProperty("createdAt")}  {Text(d, "lastError")}");
            }
        }));
        return command;
    }

    private static Command Recover()
    {
        var endpoint = new Option<string>("--endpoint") { Description = "The endpoint id", Required = true };
        var since = new Option<DateTimeOffset>("--since") { Description = "Recover failed and skipped deliveries created at or after this time", Required = true };
        var until = new Option<DateTimeOffset?>("--until") { Description = "… and before this time (default: now)" };
        var rate = new Option<int?>("--rate") { Description = "Deliveries a second (default: the endpoint's rate limit, else Deliveries:RecoverRatePerSecond)" };
        var command = new Command("recover", "Send every failed or skipped delivery of an endpoint again, oldest first, at a limited rate.")
            { endpoint, since, until, rate };
        command.SetAction(async (parse, ct) =>
        {
            // One call handles up to 10,000; each call continues where the last stopped (resumable after any interruption).
            var total = 0;
            var query = $"since={Uri.EscapeDataString(parse.GetValue(since).UtcDateTime.ToString("o"))}" +
                        $"&until={Uri.EscapeDataString((parse.GetValue(until) ?? DateTimeOffset.UtcNow).UtcDateTime.ToString("o"))}" +
                        (parse.GetValue(rate) is { } r ? $"&rate={r}" : "") + "&limit=10000";
            while (true)
            {
                var done = false;
                var code = await RunAsync(parse, api => api.PostAsync($"api/endpoints/{parse.GetValue(endpoint)}/recover?{query}", null, ct), json =>
                {
                    total += json.GetProperty("recovered").GetInt32();
                    done = json.GetProperty("done").GetBoolean();
                    Console.WriteLine($"recovered {total} so far, {json.GetProperty("remaining")} left; last due at {Text(json, "lastDueAt")}");
                });
                if (code != 0 || done)
                {
                    return code;
                }
            }
        });
        return command;
    }

    /// <summary>
    /// A receiver for trying it out: registers an endpoint pointing at itself (127.0.0.1), verifies each delivery's
    /// signature as a receiver should, prints it, and removes the endpoint when stopped.
    /// </summary>
    private static Command Listen()
    {
        var port = new Option<int>("--port") { Description = "Port to listen on (127.0.0.1)", DefaultValueFactory = _ => 9000 };
        var events = new Option<string[]>("--events") { Description = "Event types to subscribe to", DefaultValueFactory = _ => ["*"], AllowMultipleArgumentsPerToken = true };
        var count = new Option<int?>("--count") { Description = "Stop after this many deliveries (default: at Ctrl+C)" };
        var command = new Command("listen", "Register a local receiver, verify and print what it is sent, remove it when stopped.") { port, events, count };
        command.SetAction(async (parse, ct) =>
        {
            if (Client(parse) is not { } api)
            {
                return Usage("Give --admin-key or set ADMIN_API_KEY.");
            }

            using (api)
            {
                using var listener = new HttpListener();
                var url = $"http://127.0.0.1:{parse.GetValue(port)}/";
                listener.Prefixes.Add(url);
                listener.Start();
                var created = await api.PostAsync("api/endpoints", new { url, eventTypes = Split(parse.GetValue(events)), description = "pipeline-ops endpoints listen" }, ct);
                if (!created.Ok)
                {
                    Console.Error.WriteLine($"{created.Status}: {created.Message}");
                    return 1;
                }

                var id = created.Json.GetProperty("id").GetString();
                var secret = created.Json.GetProperty("secret").GetString()!;
                Console.WriteLine($"Listening on {url} as endpoint {id}; verifying with its secret. Ctrl+C to stop.");
                try
                {
                    for (var received = 0; parse.GetValue(count) is not { } max || received < max; received++)
                    {
                        var context = await listener.GetContextAsync().WaitAsync(ct);
                        using var body = new MemoryStream();
                        await context.Request.InputStream.CopyToAsync(body, ct);
                        var bytes = body.ToArray();
                        var problem = SignatureCheck.Verify(secret, context.Request.Headers["webhook-id"], context.Request.Headers["webhook-timestamp"],
                            context.Request.Headers["webhook-signature"], bytes, DateTimeOffset.UtcNow);
                        context.Response.StatusCode = problem is null ? 200 : 401;
                        context.Response.Close();
                        Console.WriteLine(problem is null
                            ? $"signature OK  {context.Request.Headers["webhook-id"]}  {System.Text.Encoding.UTF8.GetString(bytes)}"
                            : $"REFUSED ({problem})");
                    }
                }
                catch (OperationCanceledException)
                {
                }
                finally
                {
                    await api.DeleteAsync($"api/endpoints/{id}", CancellationToken.None);
                    Console.WriteLine($"Endpoint {id} removed.");
                }

                return 0;
            }
        });
        return command;
    }

    private static Command Simple(string name, string description, string? argument, Func<DeliveriesApiClient, string?, CancellationToken, Task<DeliveriesApiClient.Answer>> call, Action<JsonElement> print)
    {
        var id = argument is null ? null : new Argument<string>(argument) { Description = "The " + argument };
        var command = new Command(name, description);
        if (id is not null)
        {
            command.Arguments.Add(id);
        }

        command.SetAction((parse, ct) => RunAsync(parse, api => call(api, id is null ? null : Uri.EscapeDataString(parse.GetValue(id)!), ct), print));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, Func<DeliveriesApiClient, Task<DeliveriesApiClient.Answer>> call, Action<JsonElement> print)
    {
        if (Client(parse) is not { } api)
        {
            return Usage("Give --admin-key or set ADMIN_API_KEY.");
        }

        using (api)
        {
            var answer = await call(api);
            if (!answer.Ok)
            {
                Console.Error.WriteLine($"{answer.Status}: {answer.Message}");
                return 1;
            }

            print(answer.Json);
            return 0;
        }
    }

    private static DeliveriesApiClient? Client(ParseResult parse)
    {
        var key = parse.GetValue(AdminKey) ?? Environment.GetEnvironmentVariable("ADMIN_API_KEY");
        var url = parse.GetValue(Service)!;
        return string.IsNullOrWhiteSpace(key) ? null : new DeliveriesApiClient(new Uri(url.EndsWith('/') ? url : url + "/"), key);
    }

    private static string[] Split(string[]? values) =>
        [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

    private static void PrintJson(JsonElement json) => Console.WriteLine(DeliveriesApiClient.Indented(json));

    private static void PrintEndpoint(JsonElement e) =>
        Console.WriteLine($"{e.GetProperty("id")}  {(e.GetProperty("enabled").GetBoolean() ? "enabled " : "disabled")}  {e.GetProperty("url")}  " +
                          $"{string.Join(",", e.GetProperty("eventTypes").EnumerateArray().Select(t => t.GetString()))}  {e.GetProperty("scheme")}" +
                          (Text(e, "disabledReason") is { Length: > 0 } reason ? $"  ({reason})" : ""));

    private static void PrintEndpoints(JsonElement list)
    {
        foreach (var e in list.EnumerateArray())
        {
            PrintEndpoint(e);
        }
    }

    private static void PrintSecret(JsonElement e)
    {
        PrintEndpoint(e);
        Console.WriteLine($"secret: {e.GetProperty("secret")}   (shown only now: keep it where the receiver reads it)");
    }

    private static void PrintTest(JsonElement t)
    {
        Console.WriteLine(t.GetProperty("success").GetBoolean()
            ? $"delivered: HTTP {t.GetProperty("status_code")} in {t.GetProperty("response_time")} s"
            : $"not delivered: {Text(t, "status_code")} {Text(t, "error")}");
        Console.WriteLine($"delivery {t.GetProperty("delivery_id")}; response: {Text(t, "response_body")}");
    }

    private static string Text(JsonElement json, string property) =>
        json.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null ? value.ToString() : "";

    private static int Usage(string message)
    {
        Console.Error.WriteLine(message);
        return 2;
    }
}
