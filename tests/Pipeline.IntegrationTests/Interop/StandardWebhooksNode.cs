using System.Diagnostics;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Interop;

/// <summary>Runs the tests/interop/standardwebhooks-*.mjs scripts (the npm <c>standardwebhooks</c> library) with JSON in and out.</summary>
public static class StandardWebhooksNode
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public sealed record Signed(string Id, string Timestamp, string Signature);

    public sealed record Verified(bool Ok, string? Error);

    /// <summary>Signs each (id, unix seconds, payload) with <c>new Webhook(secret).sign(id, date, payload)</c>.</summary>
    public static Task<IReadOnlyList<Signed>> SignAsync(string secret, IEnumerable<(string Id, long Timestamp, string Payload)> messages) =>
        RunAsync<Signed>("standardwebhooks-sign.mjs", new
        {
            secret,
            messages = messages.Select(m => new { id = m.Id, timestamp = m.Timestamp, payload = m.Payload }),
        });

    /// <summary>Verifies each delivery with <c>new Webhook(secret).verify(payload, headers)</c>.</summary>
    public static Task<IReadOnlyList<Verified>> VerifyAsync(string secret, IEnumerable<(string Payload, IReadOnlyDictionary<string, string> Headers)> deliveries) =>
        RunAsync<Verified>("standardwebhooks-verify.mjs", new
        {
            secret,
            deliveries = deliveries.Select(d => new { payload = d.Payload, headers = d.Headers }),
        });

    private static async Task<IReadOnlyList<T>> RunAsync<T>(string script, object input)
    {
        var directory = Path.Combine(RepoPaths.Root, "tests", "interop");
        if (!Directory.Exists(Path.Combine(directory, "node_modules", "standardwebhooks")))
        {
            throw new InvalidOperationException($"The npm libraries are not installed: run `npm ci --prefix tests/interop` (./test.sh does).");
        }

        var info = new ProcessStartInfo("node", [Path.Combine(directory, script)])
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start node.");
        using var deadline = new CancellationTokenSource(Timeout);
        await process.StandardInput.WriteAsync(JsonSerializer.Serialize(input));
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        await process.WaitForExitAsync(deadline.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"node {script} exited with {process.ExitCode}: {await stderr}");
        }

        return JsonSerializer.Deserialize<List<T>>(await stdout, new JsonSerializerOptions(JsonSerializerDefaults.Web))
               ?? throw new InvalidOperationException($"node {script} printed nothing.");
    }
}
