using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Pipeline.Ingress.Providers.LiveKit;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Interop;

/// <summary>
/// Our LiveKit verifier and test signer against LiveKit's own npm library (livekit-server-sdk, pinned in
/// tests/interop/package-lock.json): its AccessToken signs as the server does, its WebhookReceiver verifies.
/// No broker or database needed.
/// </summary>
public sealed class LiveKitInteropTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("livekit-interop-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static string RandomApiKey() => "API" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private static string RandomSecret(int length = 43) =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(length)).Replace('+', 'x').Replace('/', 'y')[..length];

    // A body as LiveKit's server writes it: protojson, int64 as strings.
    private static string RoomStartedBody(string room) =>
        $$"""{"event":"room_started","room":{"sid":"RM_{{room}}","name":"{{room}}","emptyTimeout":300,"creationTime":"{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}"},"id":"EV_{{Guid.NewGuid():N}}","createdAt":"{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}"}""";

    private static LiveKitSignatureVerifier Verifier(string apiKey, string secret) =>
        new(new Dictionary<string, string> { [apiKey] = secret }, TimeSpan.FromSeconds(60));

    [Theory]
    [InlineData(16)]
    [InlineData(43)] // the length of a secret LiveKit generates
    [InlineData(80)] // longer than an HMAC-SHA256 block
    public async Task Token_from_livekit_server_sdk_is_accepted_by_our_verifier(int secretLength)
    {
        var apiKey = RandomApiKey();
        var secret = RandomSecret(secretLength);
        var body = Encoding.UTF8.GetBytes(RoomStartedBody("interop-in"));

        var token = await SignWithLiveKitAsync(apiKey, secret, body);

        // The claims LiveKit's server sends: iss, nbf, exp five minutes later, sha256; HS256.
        var jwt = new JsonWebToken(token);
        Assert.Equal("HS256", jwt.Alg);
        Assert.Equal(apiKey, jwt.Issuer);
        Assert.Equal(TimeSpan.FromMinutes(5), jwt.ValidTo - jwt.ValidFrom);
        Assert.Equal(Convert.ToBase64String(SHA256.HashData(body)), jwt.GetPayloadValue<string>("sha256"));

        var verifier = Verifier(apiKey, secret);
        var accepted = await verifier.VerifyAsync(body, token);
        Assert.True(accepted.IsValid, accepted.Reason);
        Assert.Equal($"livekit-jwt key {apiKey}", accepted.Reason);
        Assert.True((await verifier.VerifyAsync(body, "Bearer " + token)).IsValid);

        // One byte changed in the body, or a verifier holding another secret for the same key: refused.
        var tampered = (byte[])body.Clone();
        tampered[^2] ^= 0x01;
        var refused = await verifier.VerifyAsync(tampered, token);
        Assert.False(refused.IsValid);
        Assert.Equal("body hash mismatch", refused.Reason);
        Assert.Equal("invalid signature", (await Verifier(apiKey, RandomSecret()).VerifyAsync(body, token)).Reason);
        Assert.Equal("unknown api key", (await Verifier(RandomApiKey(), secret).VerifyAsync(body, token)).Reason);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(43)]
    [InlineData(80)]
    public async Task Token_from_our_test_signer_is_accepted_by_livekits_webhook_receiver(int secretLength)
    {
        var apiKey = RandomApiKey();
        var secret = RandomSecret(secretLength);
        var json = RoomStartedBody("interop-out");
        var body = Encoding.UTF8.GetBytes(json);
        var eventId = JsonDocument.Parse(json).RootElement.GetProperty("id").GetString();

        var token = LiveKitTestSigner.Sign(apiKey, secret, body);

        var accepted = await ReceiveWithLiveKitAsync(apiKey, secret, body, token);
        Assert.Equal(0, accepted.ExitCode);
        Assert.True(accepted.Json.GetProperty("ok").GetBoolean(), accepted.Output);
        Assert.Equal("room_started", accepted.Json.GetProperty("event").GetString());
        Assert.Equal(eventId, accepted.Json.GetProperty("id").GetString());
        Assert.Equal("interop-out", accepted.Json.GetProperty("room").GetString());

        // The same token over another body, or checked with another secret: LiveKit's receiver refuses it too.
        var tampered = Encoding.UTF8.GetBytes(json.Replace("interop-out", "interop-xxx", StringComparison.Ordinal));
        var refused = await ReceiveWithLiveKitAsync(apiKey, secret, tampered, token);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("sha256", refused.Json.GetProperty("error").GetString());

        var wrongSecret = await ReceiveWithLiveKitAsync(apiKey, RandomSecret(), body, token);
        Assert.Equal(1, wrongSecret.ExitCode);
        Assert.False(wrongSecret.Json.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Expired_test_signer_token_is_refused_by_both_sides()
    {
        var apiKey = RandomApiKey();
        var secret = RandomSecret();
        var body = Encoding.UTF8.GetBytes(RoomStartedBody("interop-old"));

        // Signed ten minutes ago with LiveKit's five minute lifetime: expired beyond either side's clock tolerance.
        var token = LiveKitTestSigner.Sign(apiKey, secret, body, DateTimeOffset.UtcNow.AddMinutes(-10));

        Assert.Equal("token expired", (await Verifier(apiKey, secret).VerifyAsync(body, token)).Reason);
        var theirs = await ReceiveWithLiveKitAsync(apiKey, secret, body, token);
        Assert.Equal(1, theirs.ExitCode);
        Assert.Contains("exp", theirs.Json.GetProperty("error").GetString());
    }

    private async Task<string> SignWithLiveKitAsync(string apiKey, string secret, byte[] body)
    {
        var result = await RunScriptAsync("livekit-sign.mjs", apiKey, secret, body);
        Assert.True(result.ExitCode == 0, result.Output + result.Errors);
        return result.Output.Trim();
    }

    private async Task<(int ExitCode, string Output, JsonElement Json)> ReceiveWithLiveKitAsync(string apiKey, string secret, byte[] body, string token)
    {
        var result = await RunScriptAsync("livekit-receive.mjs", apiKey, secret, body, token);
        var lastLine = result.Output.Trim().Split('\n')[^1];
        if (lastLine.Length == 0)
        {
            throw new InvalidOperationException($"livekit-receive.mjs printed nothing (exit {result.ExitCode}): {result.Errors}");
        }

        return (result.ExitCode, result.Output, JsonDocument.Parse(lastLine).RootElement.Clone());
    }

    private async Task<(int ExitCode, string Output, string Errors)> RunScriptAsync(string script, string apiKey, string secret, byte[] body, params string[] arguments)
    {
        var interop = Path.Combine(RepoPaths.Root, "tests", "interop");
        if (!Directory.Exists(Path.Combine(interop, "node_modules", "livekit-server-sdk")))
        {
            throw new InvalidOperationException($"Install the interop libraries first: npm ci --prefix {interop} (./test.sh does it).");
        }

        var bodyFile = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllBytesAsync(bodyFile, body);

        var info = new ProcessStartInfo("node")
        {
            WorkingDirectory = interop,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(interop, script));
        info.ArgumentList.Add(bodyFile);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Secrets go through the environment, not the command line other processes can read.
        info.Environment["LIVEKIT_API_KEY"] = apiKey;
        info.Environment["LIVEKIT_API_SECRET"] = secret;

        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start node.");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"node {script} did not finish within 60 s.");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
