using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.IntegrationTests.Infrastructure;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Deployment;

/// <summary>
/// The embedded host as someone installs it: `dotnet publish Standalone`, then run from the publish folder, with the
/// secret and read key it generates and prints. It needs neither RabbitMQ nor PostgreSQL.
/// </summary>
public sealed class StandalonePublishTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "pipeline-standalone-" + Guid.NewGuid().ToString("N")[..12]);

    [Fact]
    public async Task Standalone_publishes_and_runs_from_its_publish_folder_and_applies_a_signed_E2B_event()
    {
        var clock = Stopwatch.StartNew();
        // The build the tests run on is reused (--no-build): what is checked is what publish puts in the folder.
        var (exitCode, publishOutput) = await RunAsync("dotnet", RepoPaths.Root, TimeSpan.FromMinutes(5),
            "publish", Path.Combine("Standalone", "Pipeline.Standalone.csproj"), "-c", RepoPaths.Configuration, "--no-build",
            "-o", _folder, "-nologo");
        Assert.True(exitCode == 0, $"dotnet publish Standalone failed ({exitCode}):{Environment.NewLine}{publishOutput}");
        output.WriteLine($"published in {clock.Elapsed.TotalSeconds:0.0} s");
        // Its own settings, not those of a service it references.
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "Standalone", "appsettings.json")),
            await File.ReadAllTextAsync(Path.Combine(_folder, "appsettings.json")));

        var port = FreePort.Next();
        var managementPort = FreePort.Other(port);
        var info = new ProcessStartInfo("dotnet", ["Pipeline.Standalone.dll"])
        {
            WorkingDirectory = _folder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["Urls"] = $"http://127.0.0.1:{port}";
        info.Environment["Management__Port"] = managementPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment.Remove("E2B_WEBHOOK_SECRET"); // it generates one and says which, and a read key
        var lines = new StringBuilder();
        using var host = Process.Start(info)!;
        host.OutputDataReceived += (_, e) => Append(lines, e.Data);
        host.ErrorDataReceived += (_, e) => Append(lines, e.Data);
        host.BeginOutputReadLine();
        host.BeginErrorReadLine();
        try
        {
            string Output()
            {
                lock (lines)
                {
                    return lines.ToString();
                }
            }

            // The welcome it prints tells how to sign; it comes once the host listens.
            var secret = await Eventually.WaitAsync(
                () => Task.FromResult(host.HasExited ? "exited" : Regex.Match(Output(), @"SECRET=([0-9a-f]{32})\b").Groups[1].Value),
                s => s.Length > 0, TimeSpan.FromMinutes(2), "Standalone to print its welcome with the generated secret",
                () => $"--- Standalone output ---{Environment.NewLine}{Output()}");
            Assert.False(host.HasExited, $"Standalone exited with {(host.HasExited ? host.ExitCode : 0)}:{Environment.NewLine}{Output()}");
            output.WriteLine($"running from the publish folder {clock.Elapsed.TotalSeconds:0.0} s after the start of publish");

            var readKey = Regex.Match(Output(), @"READ_KEY=([0-9a-f]{32})\b").Groups[1].Value;
            Assert.Matches("^[0-9a-f]{32}$", readKey);
            Assert.Contains($"http://127.0.0.1:{managementPort}/metrics", Output());

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            var sandboxId = "sbx-published-" + Guid.NewGuid().ToString("N")[..8];
            var response = await http.SendAsync(E2bEvents.SignedRequest(E2bEvents.Seed("create", sandboxId, DateTime.UtcNow), secret, "webhooks/e2b"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True((await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("success").GetBoolean());

            // Applied by the Sandboxes consumer, and read back with the printed read key (without it: 401).
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync($"api/sandboxes/{sandboxId}")).StatusCode);
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", readKey);
            var sandbox = await Eventually.WaitAsync(() => http.GetAsync($"api/sandboxes/{sandboxId}"), r => r.StatusCode == HttpStatusCode.OK,
                TimeSpan.FromSeconds(30), $"{sandboxId} in the read API", Output);
            Assert.Equal("running", (await sandbox.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        }
        finally
        {
            if (!host.HasExited)
            {
                host.Kill(entireProcessTree: true);
                await host.WaitForExitAsync();
            }
        }
    }

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    private static void Append(StringBuilder lines, string? line)
    {
        if (line is not null)
        {
            lock (lines)
            {
                lines.AppendLine(line);
            }
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, string directory, TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(deadline.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
