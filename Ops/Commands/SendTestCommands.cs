using System.CommandLine;
using System.Text;
using Pipeline.Ops.TestEvents;

namespace Pipeline.Ops.Commands;

/// <summary>send-test: a correctly signed sample event, like a provider's "Send test event" button.</summary>
public static class SendTestCommands
{
    private static readonly Option<string> Url = new("--url")
    {
        Description = "Ingress base address",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PIPELINE_INGRESS_URL") ?? "http://127.0.0.1:5081/",
        Recursive = true,
    };

    public static Command Build()
    {
        var command = new Command("send-test", "Send a correctly signed sample event to a running Ingress.");
        command.Options.Add(Url);
        command.Subcommands.Add(E2b());
        command.Subcommands.Add(LiveKit());
        command.Subcommands.Add(NewApi());
        command.Subcommands.Add(Source());
        return command;
    }

    private static Command E2b()
    {
        var label = new Argument<string>("event") { Description = "create, kill, pause, resume or update", DefaultValueFactory = _ => "create" };
        label.AcceptOnlyFromAmong(E2bTestEvent.Labels);
        var format = new Option<string>("--format") { Description = "v2 (E2B's current format) or seed", DefaultValueFactory = _ => "v2" };
        format.AcceptOnlyFromAmong("v2", "seed");
        var sandbox = new Option<string>("--sandbox") { Description = "Sandbox id", DefaultValueFactory = _ => "sbx-test-" + Random.Shared.Next(1000, 9999) };
        var secret = new Option<string?>("--secret") { Description = "Signing secret (env E2B_WEBHOOK_SECRET)" };
        var command = new Command("e2b", "A sandbox lifecycle event.") { label, format, sandbox, secret };
        command.SetAction(async (parse, ct) =>
        {
            var key = parse.GetValue(secret) ?? Environment.GetEnvironmentVariable("E2B_WEBHOOK_SECRET");
            if (string.IsNullOrEmpty(key))
            {
                Console.Error.WriteLine("Give --secret or set E2B_WEBHOOK_SECRET.");
                return 2;
            }

            var request = E2bTestEvent.Build(parse.GetValue(label)!, parse.GetValue(format)!, parse.GetValue(sandbox)!, key, DateTimeOffset.UtcNow);
            return await SendAsync(parse.GetValue(Url)!, request, ct);
        });
        return command;
    }

    private static Command LiveKit()
    {
        var name = new Argument<string>("event") { Description = "The LiveKit event", DefaultValueFactory = _ => "room_started" };
        name.AcceptOnlyFromAmong(LiveKitTestEvent.Events);
        var room = new Option<string>("--room") { Description = "Room name", DefaultValueFactory = _ => "test-room" };
        var identity = new Option<string>("--identity") { Description = "Participant identity", DefaultValueFactory = _ => "test-user" };
        var apiKey = new Option<string?>("--api-key") { Description = $"API key, the token's iss (env {LiveKitTestEvent.ApiKeyVariable})" };
        var apiSecret = new Option<string?>("--api-secret") { Description = $"API secret (env {LiveKitTestEvent.ApiSecretVariable})" };
        var command = new Command("livekit", "A LiveKit room, participant, track, egress or ingress event.") { name, room, identity, apiKey, apiSecret };
        command.SetAction(async (parse, ct) =>
        {
            var key = Setting(parse.GetValue(apiKey), LiveKitTestEvent.ApiKeyVariable);
            var secret = Setting(parse.GetValue(apiSecret), LiveKitTestEvent.ApiSecretVariable);
            if (key is null || secret is null)
            {
                return Usage(key is null
                    ? $"Give --api-key or set {LiveKitTestEvent.ApiKeyVariable}."
                    : $"Give --api-secret or set {LiveKitTestEvent.ApiSecretVariable}.");
            }

            var request = LiveKitTestEvent.Build(parse.GetValue(name)!, parse.GetValue(room)!, parse.GetValue(identity)!, key, secret, DateTimeOffset.UtcNow);
            return await SendAsync(parse.GetValue(Url)!, request, ct);
        });
        return command;
    }

    private static Command NewApi()
    {
        var name = new Argument<string>("event") { Description = "consume (a usage row) or a notification type", DefaultValueFactory = _ => NewApiTestEvent.Consume };
        name.AcceptOnlyFromAmong(NewApiTestEvent.Events);
        var user = new Option<string>("--user") { Description = "The usage row's user_id", DefaultValueFactory = _ => "1" };
        var quota = new Option<long>("--quota") { Description = "The usage row's quota (500000 = 1 USD)", DefaultValueFactory = _ => 500 };
        var requestId = new Option<string?>("--request-id") { Description = "The usage row's request_id, the dedup key (default: a new one)" };
        var auth = new Option<string>("--auth") { Description = "hmac (X-Webhook-Signature) or bearer (Authorization: Bearer <secret>)", DefaultValueFactory = _ => "hmac" };
        auth.AcceptOnlyFromAmong(NewApiTestEvent.AuthModes);
        var secret = new Option<string?>("--secret") { Description = $"Webhook secret (env {NewApiTestEvent.SecretVariable}, else {NewApiTestEvent.SeedSecretVariable})" };
        var command = new Command("new-api", "A new-api usage row (consume) or notification.") { name, user, quota, requestId, auth, secret };
        command.SetAction(async (parse, ct) =>
        {
            if ((Setting(parse.GetValue(secret), NewApiTestEvent.SecretVariable) ?? Setting(null, NewApiTestEvent.SeedSecretVariable)) is not { } key)
            {
                return Usage($"Give --secret or set {NewApiTestEvent.SecretVariable} (or the seed's {NewApiTestEvent.SeedSecretVariable}).");
            }

            if (parse.GetValue(quota) < 0)
            {
                return Usage("--quota must not be negative.");
            }

            var request = NewApiTestEvent.Build(parse.GetValue(name)!, parse.GetValue(user)!, parse.GetValue(quota),
                parse.GetValue(requestId), parse.GetValue(auth)!, key, DateTimeOffset.UtcNow);
            return await SendAsync(parse.GetValue(Url)!, request, ct);
        });
        return command;
    }

    private static Command Source()
    {
        var name = new Argument<string>("name") { Description = "The source's name: Sources:<name> in Ingress, POST /webhooks/<name>" };
        var scheme = new Option<string?>("--scheme") { Description = $"{string.Join(", ", SourceTestEvent.Schemes)} (env Sources__<name>__Scheme)" };
        scheme.AcceptOnlyFromAmong(SourceTestEvent.Schemes);
        var secret = new Option<string?>("--secret") { Description = "The source's secret (env Sources__<name>__Secrets__0)" };
        var body = new Option<string?>("--body") { Description = "Body to sign and send, or @file (default: a small JSON sample in the scheme's shape)" };
        var tokenHeader = new Option<string?>("--token-header") { Description = "token scheme: the header Ingress reads the token from (Sources:<name>:TokenHeader); default ?token=" };
        var command = new Command("source", "A delivery to a configured source, signed with its scheme.") { name, scheme, secret, body, tokenHeader };
        command.SetAction(async (parse, ct) =>
        {
            var source = parse.GetValue(name)!;
            var schemeName = Setting(parse.GetValue(scheme), SourceTestEvent.SchemeVariable(source))?.Trim().ToLowerInvariant();
            if (schemeName is null || !SourceTestEvent.Schemes.Contains(schemeName))
            {
                return Usage($"Give --scheme ({string.Join(", ", SourceTestEvent.Schemes)}) or set {SourceTestEvent.SchemeVariable(source)}.");
            }

            if (Setting(parse.GetValue(secret), SourceTestEvent.SecretVariable(source)) is not { } key)
            {
                return Usage($"Give --secret or set {SourceTestEvent.SecretVariable(source)}.");
            }

            if (schemeName == SourceTestEvent.StandardWebhooks && !SourceTestEvent.TryDecodeStandardWebhooksSecret(key, out _))
            {
                return Usage("--secret of a standard-webhooks source is whsec_ followed by Base64.");
            }

            if (parse.GetValue(tokenHeader) is not null && schemeName != SourceTestEvent.Token)
            {
                return Usage("--token-header applies only to --scheme token.");
            }

            var text = parse.GetValue(body);
            if (text is ['@', .. var file])
            {
                text = await File.ReadAllTextAsync(file, ct);
            }

            var request = SourceTestEvent.Build(source, schemeName, key, text, parse.GetValue(tokenHeader), DateTimeOffset.UtcNow);
            return await SendAsync(parse.GetValue(Url)!, request, ct);
        });
        return command;
    }

    /// <summary>The option's value, else the environment variable's; null when neither is set.</summary>
    private static string? Setting(string? option, string variable) =>
        !string.IsNullOrWhiteSpace(option) ? option
        : Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) ? value
        : null;

    private static int Usage(string message)
    {
        Console.Error.WriteLine(message);
        return 2;
    }

    public static async Task<int> SendAsync(string ingress, TestRequest request, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri(ingress.EndsWith('/') ? ingress : ingress + "/") };
        using var message = new HttpRequestMessage(HttpMethod.Post, request.Path)
        {
            Content = new StringContent(request.Body, Encoding.UTF8, request.ContentType),
        };
        foreach (var (name, value) in request.Headers)
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await http.SendAsync(message, cancellationToken);
        Console.WriteLine($"POST {request.PrintablePath} -> {(int)response.StatusCode} {response.StatusCode}");
        Console.WriteLine(await response.Content.ReadAsStringAsync(cancellationToken));
        return response.IsSuccessStatusCode ? 0 : 1;
    }
}
