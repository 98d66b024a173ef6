using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Dashboard;

/// <summary>
/// The dashboard open in headless Chromium: <c>tests/interop/dashboard-browser.mjs</c> (playwright-core driving Debian's
/// chromium) kept running for the whole test, one JSON command per line. A missing Chromium is a failure, never a skip.
/// </summary>
public sealed class DashboardBrowser : IAsyncDisposable
{
    public static readonly string Chromium = Environment.GetEnvironmentVariable("CHROMIUM_PATH") is { Length: > 0 } path ? path : "/usr/bin/chromium";
    public static readonly string OutputDirectory = Path.Combine(RepoPaths.Root, ".test-output", "dashboard");

    // Longer than any wait the script is asked for (those end in an answer of their own).
    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(180);
    private readonly Process _node;
    private readonly ConcurrentQueue<string> _stderr = new();

    private DashboardBrowser(Process node) => _node = node;

    public static async Task<DashboardBrowser> OpenAsync(Uri dashboard)
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException(
                $"Chromium is missing at {Chromium}: the dashboard tests need it. Install it with `apt-get install -y chromium` (./test.sh does).");
        }

        var script = Path.Combine(RepoPaths.Root, "tests", "interop", "dashboard-browser.mjs");
        var info = new ProcessStartInfo("node", [script, dashboard.ToString(), OutputDirectory])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(script)!,
        };
        info.Environment["CHROMIUM_PATH"] = Chromium;
        var browser = new DashboardBrowser(Process.Start(info) ?? throw new InvalidOperationException("Could not start node."));
        browser._node.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                browser._stderr.Enqueue(e.Data);
            }
        };
        browser._node.BeginErrorReadLine();
        try
        {
            await browser.ReadAnswerAsync("start");
        }
        catch
        {
            await browser.DisposeAsync();
            throw;
        }

        return browser;
    }

    public Task LoginAsync(string key) => SendAsync(new JsonObject { ["cmd"] = "login", ["key"] = key });

    /// <summary>
    /// Waits until an element matching <paramref name="selector"/> is visible, containing <paramref name="text"/> (or
    /// with <paramref name="exact"/>, being that text); returns its text.
    /// </summary>
    public async Task<string> WaitForAsync(string selector, string? text = null, TimeSpan? timeout = null, bool exact = false)
    {
        var command = Command("waitFor", selector, text, timeout);
        command["exact"] = exact;
        return (await SendAsync(command))["text"]!.GetValue<string>();
    }

    /// <summary>Waits until no element matches.</summary>
    public Task WaitGoneAsync(string selector, string? text = null, TimeSpan? timeout = null) =>
        SendAsync(Command("waitGone", selector, text, timeout));

    public Task ClickAsync(string selector, string? text = null) => SendAsync(Command("click", selector, text, null));

    public async Task<int> CountAsync(string selector) =>
        (await SendAsync(Command("count", selector, null, null)))["count"]!.GetValue<int>();

    public async Task<string> ScreenshotAsync(string name) =>
        (await SendAsync(new JsonObject { ["cmd"] = "screenshot", ["name"] = name }))["path"]!.GetValue<string>();

    /// <summary>Uncaught script errors, and requests the page tried to send anywhere but Ingress.</summary>
    public async Task<(string[] PageErrors, string[] OffOrigin)> ProblemsAsync()
    {
        var answer = await SendAsync(new JsonObject { ["cmd"] = "problems" });
        return (answer["pageErrors"]!.AsArray().Select(e => e!.GetValue<string>()).ToArray(),
                answer["offOrigin"]!.AsArray().Select(e => e!.GetValue<string>()).ToArray());
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_node.HasExited)
            {
                await _node.StandardInput.WriteLineAsync("""{"cmd":"close"}""");
                await _node.StandardInput.FlushAsync();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await _node.WaitForExitAsync(wait.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            _node.Kill(entireProcessTree: true);
        }

        _node.Dispose();
    }

    private static JsonObject Command(string cmd, string selector, string? text, TimeSpan? timeout)
    {
        var command = new JsonObject { ["cmd"] = cmd, ["selector"] = selector };
        if (text is not null)
        {
            command["text"] = text;
        }

        if (timeout is { } t)
        {
            command["timeoutMs"] = (int)t.TotalMilliseconds;
        }

        return command;
    }

    private async Task<JsonObject> SendAsync(JsonObject command)
    {
        await _node.StandardInput.WriteLineAsync(command.ToJsonString());
        await _node.StandardInput.FlushAsync();
        return await ReadAnswerAsync(command.ToJsonString());
    }

    private async Task<JsonObject> ReadAnswerAsync(string what)
    {
        using var timeout = new CancellationTokenSource(AnswerTimeout);
        string? line;
        try
        {
            line = await _node.StandardOutput.ReadLineAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"The browser did not answer {what} within {AnswerTimeout.TotalSeconds:0}s.{Stderr()}");
        }

        if (line is null)
        {
            await _node.WaitForExitAsync();
            throw new InvalidOperationException($"The browser script exited ({_node.ExitCode}) before answering {what}.{Stderr()}");
        }

        var answer = JsonNode.Parse(line)?.AsObject() ?? throw new InvalidOperationException($"Unreadable answer to {what}: {line}");
        if (answer["ok"]?.GetValue<bool>() != true)
        {
            throw new InvalidOperationException($"Dashboard browser: {answer["error"]} (screenshot: {answer["screenshot"]}){Stderr()}");
        }

        return answer;
    }

    private string Stderr() => _stderr.IsEmpty ? "" : Environment.NewLine + string.Join(Environment.NewLine, _stderr);
}
