using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Pipeline.IntegrationTests.Credits;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.IntegrationTests.Interop;
using Pipeline.IntegrationTests.Rooms;

namespace Pipeline.IntegrationTests.Hardening;

/// <summary>
/// Every service's whole output, at Debug level, after accepted, duplicate, forged, malformed and oversized deliveries to
/// every provider: no secret, no signature, no token and nothing from a body that the pipeline has no need to log.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class LogHygieneTests(TestServices services)
{
    private const int MaxBodyBytes = 4096;
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    // Anything a sender puts in a header that proves who it is: values of these headers are collected as secrets.
    private static readonly string[] CredentialHeaders = ["signature", "authorization", "token"];

    private static string NewSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    private static string NewMarker() => "MARKER" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));

    [Fact]
    public async Task No_secret_signature_token_or_body_marker_reaches_any_log()
    {
        var newApiSecret = NewSecret();
        var (liveKitKey, liveKitSecret) = ("APIaudit" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4)), NewSecret());
        var hmacSecret = NewSecret();
        var standardSecret = StandardWebhooksTestSigner.NewSecret();
        var token = NewSecret();
        var debug = new Dictionary<string, string> { ["Serilog__MinimumLevel__Default"] = "Debug" };
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [ConsumerService.Sandboxes, ConsumerService.Credits, ConsumerService.Rooms],
            ConsumerEnvironment = debug,
            IngressEnvironment = new Dictionary<string, string>(debug)
            {
                ["Ingress__MaxBodyBytes"] = MaxBodyBytes.ToString(),
                ["NEWAPI_WEBHOOK_SECRET"] = newApiSecret,
                ["LIVEKIT_API_KEY"] = liveKitKey,
                ["LIVEKIT_API_SECRET"] = liveKitSecret,
                ["Sources__agents__Scheme"] = "hmac-sha256",
                ["Sources__agents__Secrets__0"] = hmacSecret,
                ["Sources__hooks__Scheme"] = "standard-webhooks",
                ["Sources__hooks__Secrets__0"] = standardSecret,
                ["Sources__runs__Scheme"] = "token",
                ["Sources__runs__Secrets__0"] = token,
            },
        });

        var secrets = new List<string> { pipeline.Secret, newApiSecret, liveKitSecret, hmacSecret, standardSecret, standardSecret["whsec_".Length..], token };
        var markers = new List<string>();
        var providers = new Provider[]
        {
            new("e2b", pipeline.Secret,
                marker => E2bBody("sbx-audit-" + Guid.NewGuid().ToString("N")[..8], marker),
                (body, secret) => E2bEvents.SignedRequest(body, secret, "webhooks/e2b")),
            new("new-api", newApiSecret,
                NewApiBody,
                (body, secret) => NewApiEvents.SignedRequest(body, secret)),
            new("new-api bearer", newApiSecret,
                NewApiBody,
                (body, secret) => Json(HttpMethod.Post, "webhooks/new-api", body, ("Authorization", "Bearer " + secret))),
            new("livekit", liveKitSecret,
                LiveKitBody,
                (body, secret) => LiveKitTestSigner.SignedRequest(body, liveKitKey, secret)),
            new("agents", hmacSecret,
                marker => JsonSerializer.Serialize(new { id = Guid.NewGuid().ToString(), event_type = "agent.completed", data = new { note = marker } }),
                (body, secret) => Json(HttpMethod.Post, "webhooks/agents", body,
                    ("X-Webhook-Signature", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)))))),
            new("hooks", standardSecret,
                marker => JsonSerializer.Serialize(new { type = "invoice.paid", data = new { note = marker } }),
                (body, secret) =>
                {
                    var headers = StandardWebhooksTestSigner.Headers(secret, "msg_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body)))[..16],
                        DateTimeOffset.UtcNow.ToUnixTimeSeconds(), body);
                    return Json(HttpMethod.Post, "webhooks/hooks", body, [.. headers.Select(h => (h.Key, h.Value))]);
                }),
            new("runs", token,
                marker => JsonSerializer.Serialize(new { run_id = Guid.NewGuid().ToString(), status = "success", note = marker }),
                (body, secret) => Json(HttpMethod.Post, "webhooks/runs?token=" + Uri.EscapeDataString(secret), body),
                HttpStatusCode.OK),
        };

        foreach (var provider in providers)
        {
            async Task<HttpStatusCode> SendAsync(string body, string secret)
            {
                using var request = provider.Sign(body, secret);
                foreach (var (name, values) in request.Headers)
                {
                    if (CredentialHeaders.Any(c => name.Contains(c, StringComparison.OrdinalIgnoreCase)))
                    {
                        secrets.AddRange(values.Select(v => v.StartsWith("Bearer ", StringComparison.Ordinal) ? v["Bearer ".Length..] : v));
                    }
                }

                if (request.RequestUri!.OriginalString.Split("token=") is [_, var query])
                {
                    secrets.Add(Uri.UnescapeDataString(query));
                }

                using var response = await pipeline.IngressHttp.SendAsync(request);
                return response.StatusCode;
            }

            string Marked()
            {
                var marker = NewMarker();
                markers.Add(marker);
                return marker;
            }

            var accepted = provider.Body(Marked());
            Assert.Equal((provider.Name, HttpStatusCode.OK), (provider.Name, await SendAsync(accepted, provider.Secret)));
            Assert.Equal((provider.Name, HttpStatusCode.OK), (provider.Name, await SendAsync(accepted, provider.Secret))); // duplicate
            var forgedWith = provider.Secret.StartsWith("whsec_", StringComparison.Ordinal) ? StandardWebhooksTestSigner.NewSecret() : NewSecret();
            Assert.Equal((provider.Name, HttpStatusCode.Unauthorized), (provider.Name, await SendAsync(provider.Body(Marked()), forgedWith)));
            Assert.Equal((provider.Name, provider.Malformed), (provider.Name, await SendAsync("{\"note\":\"" + Marked() + "\",", provider.Secret)));
            var oversized = provider.Body(Marked() + new string('x', MaxBodyBytes));
            Assert.Equal((provider.Name, HttpStatusCode.RequestEntityTooLarge), (provider.Name, await SendAsync(oversized, provider.Secret)));
        }

        // Everything accepted has gone through the broker and every consumer has finished with it.
        await Eventually.WaitAsync(async () => await pipeline.CountAsync("""SELECT count(*) FROM ingress_outbox WHERE "SentAt" IS NULL"""),
            n => n == 0, Deadline, "the outbox to drain", pipeline.Diagnostics);
        // One E2B event, two new-api usage events (signature and bearer), one LiveKit event.
        foreach (var (inbox, expected) in new[] { ("sandboxes_inbox", 1), ("credits_inbox", 2), ("rooms_inbox", 1) })
        {
            await Eventually.WaitAsync(() => pipeline.CountAsync($"SELECT count(*) FROM {inbox}"), n => n >= expected, Deadline,
                $"{expected} message(s) in {inbox}", pipeline.Diagnostics);
        }

        await pipeline.Ingress.StopAsync();
        foreach (var consumer in pipeline.Consumers.Values)
        {
            await consumer.StopAsync();
        }

        var outputs = pipeline.Consumers.Values.Prepend(pipeline.Ingress).Select(h => h.FullOutput()).ToList();
        var ingressOutput = outputs[0];
        // The audit means something only if the paths were logged, at Debug level, in the first place.
        Assert.Contains("DBG]", ingressOutput);
        Assert.Contains("Rejected livekit webhook with 401", ingressOutput);
        Assert.Contains("Rejected runs webhook with 413", ingressOutput);
        Assert.Contains("Duplicate e2b", ingressOutput);
        Assert.All(pipeline.Consumers.Values, c => Assert.Contains("DBG]", c.FullOutput()));

        var leaks = (from output in outputs.Select((text, i) => (text, host: i == 0 ? "ingress" : pipeline.Consumers.Keys.ElementAt(i - 1).Name))
                     from value in secrets.Concat(markers).Distinct()
                     where value.Length >= 8 && output.text.Contains(value, StringComparison.Ordinal)
                     select $"{output.host}: {(markers.Contains(value) ? "body marker" : "secret/signature")} {Excerpt(output.text, value)}").ToList();
        Assert.True(leaks.Count == 0, string.Join(Environment.NewLine, leaks));
    }

    private static string E2bBody(string sandboxId, string marker) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["id"] = Guid.NewGuid().ToString(),
        ["version"] = "v2",
        ["type"] = "sandbox.lifecycle.created",
        ["timestamp"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'"),
        ["event_category"] = "lifecycle",
        ["event_label"] = "create",
        ["sandbox_id"] = sandboxId,
        ["sandbox_team_id"] = "team-1",
        ["sandbox_template_id"] = "base",
        ["event_data"] = new { sandbox_metadata = new { note = marker } },
    });

    private static string NewApiBody(string marker)
    {
        var body = JsonNode.Parse(NewApiEvents.Consume("req-" + Guid.NewGuid().ToString("N"), 4242L, 100))!;
        body["content"] = marker;
        body["data"]!["token_name"] = marker;
        return body.ToJsonString();
    }

    private static string LiveKitBody(string marker)
    {
        var now = DateTimeOffset.UtcNow;
        var room = LiveKitWebhooks.Room("RM_" + Guid.NewGuid().ToString("N")[..10], "audit", now);
        room["metadata"] = marker;
        return LiveKitWebhooks.Body("room_started", "EV_" + Guid.NewGuid().ToString("N")[..12], now, room: room);
    }

    private static HttpRequestMessage Json(HttpMethod method, string path, string body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(method, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    private static string Excerpt(string text, string value)
    {
        var at = text.IndexOf(value, StringComparison.Ordinal);
        var start = Math.Max(0, text.LastIndexOf('\n', at) + 1);
        var end = text.IndexOf('\n', at);
        var line = text[start..(end < 0 ? text.Length : end)];
        return line.Length > 400 ? line[..400] : line;
    }

    /// <param name="Malformed">What broken JSON gets: 400, or 200 where a source takes any body as an opaque delivery.</param>
    private sealed record Provider(string Name, string Secret, Func<string, string> Body, Func<string, string, HttpRequestMessage> Sign,
        HttpStatusCode Malformed = HttpStatusCode.BadRequest);
}
