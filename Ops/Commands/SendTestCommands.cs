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
        Console.WriteLine($"POST {request.Path} -> {(int)response.StatusCode} {response.StatusCode}");
        Console.WriteLine(await response.Content.ReadAsStringAsync(cancellationToken));
        return response.IsSuccessStatusCode ? 0 : 1;
    }
}
