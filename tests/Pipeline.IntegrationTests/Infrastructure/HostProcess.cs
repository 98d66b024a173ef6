using System.Collections.Concurrent;
using System.Diagnostics;

namespace Pipeline.IntegrationTests.Infrastructure;

/// <summary>
/// One of the project's services running as its own OS process (`dotnet Service.dll`), as in production: it can be
/// stopped, or killed outright, and started again. Its output goes to a log file under .test-output/hosts.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly string _name;
    private readonly string _dll;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly ConcurrentQueue<string> _recent = new();
    private readonly string _logPath;
    private readonly object _logLock = new();
    private Process? _process;

    public HostProcess(string name, string project, string assembly, IReadOnlyDictionary<string, string> environment)
    {
        _name = name;
        _dll = Path.Combine(RepoPaths.Root, project, "bin", RepoPaths.Configuration, "net10.0", assembly + ".dll");
        if (!File.Exists(_dll))
        {
            throw new FileNotFoundException($"Build the solution first: {_dll} is missing.", _dll);
        }

        _environment = environment;
        Port = FreePort.Next();
        BaseAddress = new Uri($"http://127.0.0.1:{Port}/");
        ManagementPort = FreePort.Other(Port);
        ManagementAddress = new Uri($"http://127.0.0.1:{ManagementPort}/");
        var logs = Path.Combine(RepoPaths.Root, ".test-output", "hosts");
        Directory.CreateDirectory(logs);
        _logPath = Path.Combine(logs, $"{DateTime.UtcNow:HHmmss}-{name}-{Port}.log");
    }

    /// <summary>The public port: webhooks, APIs and /health/live.</summary>
    public int Port { get; }

    public Uri BaseAddress { get; }

    /// <summary>The management port: /metrics, /health/ready and /health/live.</summary>
    public int ManagementPort { get; }

    public Uri ManagementAddress { get; }
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The OS process id of the current run, to tell a reload from a restart.</summary>
    public int? ProcessId => _process?.Id;

    public async Task StartAsync(TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo("dotnet", [_dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(_dll)!,
        };
        info.Environment["Urls"] = BaseAddress.ToString().TrimEnd('/');
        info.Environment["Management__Port"] = ManagementPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (key, value) in _environment)
        {
            info.Environment[key] = value; // after the ports, so a test can give a bad one
        }
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        _process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {_name}.");
        var outputClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var errorClosed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _process.OutputDataReceived += (_, e) => Record(e.Data, outputClosed);
        _process.ErrorDataReceived += (_, e) => Record(e.Data, errorClosed);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var process = _process;
        var ready = await Eventually.WaitAsync(async () =>
        {
            if (process.HasExited)
            {
                return (bool?)null; // stop waiting: it will not come up
            }

            try
            {
                return (await http.GetAsync("health/live")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, r => r is not false, timeout ?? TimeSpan.FromMinutes(3), $"{_name} to answer /health/live", RecentOutput);
        if (ready is null)
        {
            // The reason it stopped is usually in its last lines: give the output readers a moment to reach the end.
            await Task.WhenAny(Task.WhenAll(outputClosed.Task, errorClosed.Task), Task.Delay(TimeSpan.FromSeconds(5)));
            throw new InvalidOperationException($"{_name} exited with {process.ExitCode} while starting:{Environment.NewLine}{RecentOutput()}");
        }
    }

    /// <summary>Ends the process abruptly, as a crash or an OOM kill would: no graceful shutdown.</summary>
    public void Kill()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    public async Task StopAsync()
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        // SIGTERM lets the host run its graceful shutdown; fall back to a kill if it hangs.
        using (var term = Process.Start("kill", ["-TERM", process.Id.ToString()]))
        {
            await term!.WaitForExitAsync();
        }

        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(wait.Token);
        }
        catch (OperationCanceledException)
        {
            Kill();
        }
    }

    /// <summary>Everything the process has written so far (across restarts), not only the recent lines.</summary>
    public string FullOutput()
    {
        lock (_logLock)
        {
            return File.Exists(_logPath) ? File.ReadAllText(_logPath) : "";
        }
    }

    public string RecentOutput() => $"--- last lines of {_name} ({_logPath}) ---{Environment.NewLine}{string.Join(Environment.NewLine, _recent)}";

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
    }

    private void Record(string? line, TaskCompletionSource closed)
    {
        if (line is null)
        {
            closed.TrySetResult(); // the end of the stream
            return;
        }

        _recent.Enqueue(line);
        while (_recent.Count > 60 && _recent.TryDequeue(out _))
        {
        }

        lock (_logLock)
        {
            File.AppendAllText(_logPath, line + Environment.NewLine);
        }
    }
}

public static class RepoPaths
{
    public static readonly string Root = FindRoot();

    /// <summary>Debug or Release: the same configuration the tests were built in.</summary>
    public static readonly string Configuration =
        new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name is var name && name is "Debug" or "Release" ? name : "Debug";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Pipeline.sln not found above " + AppContext.BaseDirectory);
    }
}
