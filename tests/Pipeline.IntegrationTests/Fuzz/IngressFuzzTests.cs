using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.IntegrationTests.Interop;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Fuzz;

/// <summary>
/// Thousands of random and mutated requests against every provider of a running Ingress (the standalone host, so
/// no broker is needed): never a 5xx, never a crash, and never a forgery accepted. Seeded, so a failure replays.
/// </summary>
public sealed class IngressFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20261122;
    private const int MutationsPerRequest = 100;

    /// <summary>A genuine request and which of its parts a forger would have to get right.</summary>
    private sealed record Genuine(string Name, string Path, string ContentType, byte[] Body, (string Name, string Value)[] Headers, bool BodyIsSigned);

    [Fact]
    public async Task Mutated_and_random_requests_never_get_a_5xx_nor_an_accepted_forgery()
    {
        var secrets = new Secrets();
        var data = Directory.CreateTempSubdirectory("pipeline-fuzz-");
        await using var host = new HostProcess("standalone-fuzz", "Standalone", "Pipeline.Standalone", secrets.Environment(data.FullName));
        await host.StartAsync();
        using var http = new HttpClient { BaseAddress = host.BaseAddress };
        var random = new Random(Seed);
        var statuses = new Dictionary<int, int>();
        var forgeries = new List<string>();

        for (var round = 0; round < MutationsPerRequest; round++)
        {
            foreach (var genuine in secrets.GenuineRequests(round))
            {
                // The genuine request itself must pass: otherwise the mutations below would prove nothing.
                var accepted = await SendAsync(http, genuine.Path, genuine.ContentType, genuine.Body, genuine.Headers);
                Count(statuses, accepted);
                Assert.True(accepted == HttpStatusCode.OK, $"{genuine.Name}: the genuine request got {(int)accepted}");

                var (what, path, type, body, headers, forged) = Mutate(genuine, random);
                var status = await SendAsync(http, path, type, body, headers);
                Count(statuses, status);
                Assert.True((int)status < 500, $"{genuine.Name} {what}: {(int)status}{Environment.NewLine}{host.RecentOutput()}");
                if (forged && status == HttpStatusCode.OK)
                {
                    forgeries.Add($"{genuine.Name}: {what}");
                }
            }

            // JWTs a forger could make without the secret: alg none, or an RS256 signature of their own key.
            var room = Encoding.UTF8.GetBytes($$$"""{"event":"room_finished","id":"EV_forged_{{{round}}}","room":{"sid":"RM_f","name":"f"}}""");
            var forgedToken = Secrets.ForgedLiveKitToken(room, rsa: round % 2 == 1);
            var forgedStatus = await SendAsync(http, "webhooks/livekit", LiveKitTestSigner.ContentType, room, [("Authorization", forgedToken)]);
            Count(statuses, forgedStatus);
            Assert.Equal(HttpStatusCode.Unauthorized, forgedStatus);

            var (garbagePath, garbage) = Garbage(random);
            var garbageStatus = await SendAsync(http, garbagePath, random.Next(2) == 0 ? "application/json" : "text/plain", garbage, []);
            Count(statuses, garbageStatus);
            Assert.True((int)garbageStatus < 500, $"garbage to {garbagePath}: {(int)garbageStatus}");
        }

        output.WriteLine($"seed {Seed}: {statuses.Values.Sum()} requests, by status: " +
                         string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}")));
        Assert.Empty(forgeries);
        Assert.True(host.IsRunning, "the host died under fuzzing");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health/live")).StatusCode);
    }

    private static (string What, string Path, string ContentType, byte[] Body, (string, string)[] Headers, bool Forged) Mutate(Genuine g, Random random)
    {
        var body = g.Body.ToArray();
        var headers = g.Headers.ToArray();
        switch (random.Next(10))
        {
            case 0:
                var at = random.Next(body.Length);
                body[at] ^= (byte)random.Next(1, 256);
                return ("one body byte flipped", g.Path, g.ContentType, body, headers, g.BodyIsSigned);
            case 1:
                return ("body truncated", g.Path, g.ContentType, body[..random.Next(body.Length)], headers, g.BodyIsSigned);
            case 2:
                return ("invalid UTF-8 appended", g.Path, g.ContentType, [.. body, 0xC3, 0x28, 0xFF, 0xFE], headers, g.BodyIsSigned);
            case 3:
                return ("signature header dropped", g.Path, g.ContentType, body, headers.Skip(1).ToArray(), true);
            case 4:
                return ("signature header garbled", g.Path, g.ContentType, body, [(headers[0].Name, Garble(headers[0].Value, random)), .. headers.Skip(1)], true);
            case 5:
                return ("signature replaced by random base64", g.Path, g.ContentType, body,
                    [(headers[0].Name, Convert.ToBase64String(RandomNumberGenerator.GetBytes(random.Next(1, 90)))), .. headers.Skip(1)], true);
            case 6:
                return ("a 40 KB header added", g.Path, g.ContentType, body, [.. headers, ("X-Padding", new string('a', 40_000))], false);
            case 7:
                return ("the signature header sent twice", g.Path, g.ContentType, body, [.. headers, (headers[0].Name, "v1,AAAA")], false);
            case 8:
                return ("random body of the right type", g.Path, g.ContentType, RandomNumberGenerator.GetBytes(random.Next(0, 2000)), headers, g.BodyIsSigned);
            default:
                return ("wrong content type", g.Path, "application/x-www-form-urlencoded", body, headers, false);
        }
    }

    private static string Garble(string value, Random random)
    {
        if (value.Length == 0)
        {
            return "x";
        }

        // A digit changed to another digit changes the value in hex and in base64 alike (case plays no part), and
        // near the end it lands in the signature itself, not in a prefix like "sha256=" or "v1,". Not the last few
        // characters: in base64 the last one or two before the padding carry padding bits, so changing them may
        // change nothing at all.
        var chars = value.ToCharArray();
        var digits = Enumerable.Range(0, chars.Length).Where(i => i >= chars.Length - 20 && i < chars.Length - 4 && char.IsAsciiDigit(chars[i])).ToList();
        var at = digits.Count > 0 ? digits[random.Next(digits.Count)] : Math.Max(0, chars.Length - 6);
        chars[at] = char.IsAsciiDigit(chars[at]) ? (char)('0' + (chars[at] - '0' + 1 + random.Next(8)) % 10) : (chars[at] == '0' ? '1' : '0');
        return new string(chars);
    }

    private static (string Path, byte[] Body) Garbage(Random random)
    {
        string[] paths = ["webhooks/e2b", "postreceive", "webhooks/livekit", "api/webhook", "webhooks/new-api", "api/webhooks/events",
            "webhooks/agents", "webhooks/hooks", "webhooks/gh", "webhooks/stripe", "webhooks/slack", "webhooks/runs", "webhooks/nobody"];
        return (paths[random.Next(paths.Length)], RandomNumberGenerator.GetBytes(random.Next(0, 3000)));
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient http, string path, string contentType, byte[] body, (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    private static void Count(Dictionary<int, int> statuses, HttpStatusCode status) =>
        statuses[(int)status] = statuses.GetValueOrDefault((int)status) + 1;

    /// <summary>A secret for every provider and scheme, and requests signed with them as each sender signs.</summary>
    private sealed class Secrets
    {
        private readonly string _e2b = Hex(24), _liveKit = Hex(24), _newApi = Hex(24), _hmac = Hex(24), _github = Hex(24),
            _stripe = Hex(24), _slack = Hex(24), _token = Hex(24), _standard = StandardWebhooksTestSigner.NewSecret();

        public Dictionary<string, string> Environment(string data) => new()
        {
            ["ConnectionStrings__Ingress"] = $"Data Source={data}/ingress.db",
            ["ConnectionStrings__Sandboxes"] = $"Data Source={data}/sandboxes.db",
            ["ConnectionStrings__Credits"] = $"Data Source={data}/credits.db",
            ["ConnectionStrings__Rooms"] = $"Data Source={data}/rooms.db",
            ["ConnectionStrings__Deliveries"] = $"Data Source={data}/deliveries.db",
            ["Ingress__RateLimit__PerSecond"] = "1000000",
            ["Ingress__RateLimit__Burst"] = "1000000",
            ["Ingress__RateLimit__FailedVerificationsPerSecond"] = "1000000",
            ["Ingress__RateLimit__FailedVerificationsBurst"] = "1000000",
            ["E2B_WEBHOOK_SECRET"] = _e2b,
            ["LIVEKIT_API_KEY"] = "APIfuzz",
            ["LIVEKIT_API_SECRET"] = _liveKit,
            ["NEWAPI_WEBHOOK_SECRET"] = _newApi,
            ["Sources__agents__Scheme"] = "hmac-sha256", ["Sources__agents__Secrets__0"] = _hmac,
            ["Sources__hooks__Scheme"] = "standard-webhooks", ["Sources__hooks__Secrets__0"] = _standard,
            ["Sources__gh__Scheme"] = "github", ["Sources__gh__Secrets__0"] = _github,
            ["Sources__stripe__Scheme"] = "stripe", ["Sources__stripe__Secrets__0"] = _stripe,
            ["Sources__slack__Scheme"] = "slack", ["Sources__slack__Secrets__0"] = _slack,
            ["Sources__runs__Scheme"] = "token", ["Sources__runs__TokenHeader"] = "X-Run-Token", ["Sources__runs__Secrets__0"] = _token,
        };

        public IEnumerable<Genuine> GenuineRequests(int round)
        {
            var now = DateTimeOffset.UtcNow;
            var id = $"{round}-{Guid.NewGuid():N}";
            const string json = "application/json";

            var seed = Bytes($$"""{"eventCategory":"lifecycle","eventLabel":"create","sandboxId":"sbx-fuzz-{{id}}","timestamp":"{{now:O}}"}""");
            yield return new("e2b seed", "webhooks/e2b", json, seed, [("X-E2B-Signature", Convert.ToHexStringLower(HMACSHA256.HashData(Bytes(_e2b), seed)))], true);

            var v2 = Bytes($$"""{"id":"{{id}}","version":"v2","type":"sandbox.lifecycle.created","timestamp":"{{now:O}}","event_label":"create","sandbox_id":"sbx-fuzz2-{{id}}"}""");
            yield return new("e2b v2", "postreceive", json, v2,
                [("e2b-signature", Convert.ToBase64String(SHA256.HashData([.. Bytes(_e2b), .. v2])).TrimEnd('='))], true);

            var room = Bytes($$$"""{"event":"room_started","id":"EV_{{{id}}}","createdAt":"{{{now.ToUnixTimeSeconds()}}}","room":{"sid":"RM_{{{id}}}","name":"fuzz-{{{id}}}"}}""");
            yield return new("livekit", "webhooks/livekit", LiveKitTestSigner.ContentType, room, [("Authorization", LiveKitTestSigner.Sign("APIfuzz", _liveKit, room))], true);

            var usage = Bytes($$$"""{"type":"consume","timestamp":{{{now.ToUnixTimeSeconds()}}},"data":{"request_id":"req-{{{id}}}","user_id":7,"quota":1000}}""");
            yield return new("new-api", "webhooks/new-api", json, usage, [("X-Webhook-Signature", Hmac(_newApi, usage))], true);

            var agent = Bytes($$"""{"id":"evt-{{id}}","event_type":"agent.done","data":{},"timestamp":{{now.ToUnixTimeSeconds()}},"source":"fuzz","version":"1.0"}""");
            yield return new("hmac-sha256", "webhooks/agents", json, agent, [("X-Webhook-Signature", "sha256=" + Hmac(_hmac, agent))], true);

            var ts = now.ToUnixTimeSeconds();
            var hook = Bytes($$"""{"type":"fuzz.event","n":{{round}}}""");
            yield return new("standard-webhooks", "webhooks/hooks", json, hook,
            [
                ("webhook-signature", StandardWebhooksTestSigner.Sign(_standard, "msg_" + id, ts, Encoding.UTF8.GetString(hook))),
                ("webhook-id", "msg_" + id), ("webhook-timestamp", ts.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ], true);

            var push = Bytes($$"""{"ref":"refs/heads/main","n":"{{id}}"}""");
            yield return new("github", "webhooks/gh", json, push,
                [("X-Hub-Signature-256", "sha256=" + Hmac(_github, push)), ("X-GitHub-Delivery", id), ("X-GitHub-Event", "push")], true);

            var charge = Bytes($$"""{"id":"evt_{{id}}","type":"charge.succeeded"}""");
            yield return new("stripe", "webhooks/stripe", json, charge,
                [("Stripe-Signature", $"t={ts},v1={Hmac(_stripe, Bytes($"{ts}.{Encoding.UTF8.GetString(charge)}"))}")], true);

            var slack = Bytes($$$"""{"type":"event_callback","event_id":"Ev{{{id}}}","event":{"type":"message"}}""");
            yield return new("slack", "webhooks/slack", json, slack,
                [("X-Slack-Signature", "v0=" + Hmac(_slack, Bytes($"v0:{ts}:{Encoding.UTF8.GetString(slack)}"))), ("X-Slack-Request-Timestamp", ts.ToString(System.Globalization.CultureInfo.InvariantCulture))], true);

            // A token sender signs nothing: only the token is a secret, so body changes are not forgeries.
            var run = Bytes($$"""{"run_id":"run-{{id}}","status":"success"}""");
            yield return new("token", "webhooks/runs", "text/plain", run, [("X-Run-Token", _token)], false);
        }

        /// <summary>LiveKit's claims for <paramref name="body"/>, but with <c>alg: none</c> or signed with an RSA key of the forger's.</summary>
        public static string ForgedLiveKitToken(byte[] body, bool rsa)
        {
            var descriptor = new SecurityTokenDescriptor
            {
                Issuer = "APIfuzz",
                Expires = DateTime.UtcNow.AddMinutes(5),
                Claims = new Dictionary<string, object> { ["sha256"] = Convert.ToBase64String(SHA256.HashData(body)) },
            };
            if (rsa)
            {
                descriptor.SigningCredentials = new SigningCredentials(new RsaSecurityKey(RSA.Create(2048)), SecurityAlgorithms.RsaSha256);
            }

            return new JsonWebTokenHandler().CreateToken(descriptor);
        }

        private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

        private static string Hmac(string secret, byte[] data) => Convert.ToHexStringLower(HMACSHA256.HashData(Bytes(secret), data));

        private static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));
    }
}
