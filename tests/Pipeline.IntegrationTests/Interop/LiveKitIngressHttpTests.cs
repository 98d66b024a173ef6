using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Interop;

/// <summary>
/// LiveKit webhooks over HTTP into a running Ingress (its own process, PostgreSQL, RabbitMQ): the answers LiveKit's
/// server sees, and what is recorded. The Rooms service's end-to-end tests take it from the outbox on.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class LiveKitIngressHttpTests(TestServices services)
{
    private static string RandomSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static string Body(string eventName, string room, string? id = null) =>
        $$"""{"event":"{{eventName}}","room":{"sid":"RM_{{room}}","name":"{{room}}","creationTime":"{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}"},"id":"{{id ?? "EV_" + Guid.NewGuid().ToString("N")[..12]}}","createdAt":"{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}"}""";

    private static async Task<(HttpStatusCode Status, JsonElement Json)> SendAsync(HttpClient http, HttpRequestMessage request)
    {
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task Signed_events_are_recorded_once_and_forgeries_are_refused_with_their_reason()
    {
        const string envKey = "APIenvironment";
        const string rotatedKey = "APIrotated";
        var envSecret = RandomSecret();
        var rotatedSecret = RandomSecret();
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [],
            IngressEnvironment =
            {
                ["LIVEKIT_API_KEY"] = envKey,
                ["LIVEKIT_API_SECRET"] = envSecret,
                [$"Providers__LiveKit__Keys__{rotatedKey}"] = rotatedSecret,
                // Published outbox rows are kept (marked sent): the test counts them.
                ["Outbox__RetainSent"] = "01:00:00",
            },
        });
        var http = pipeline.IngressHttp;
        var first = Body("room_started", "http-1");

        var accepted = await SendAsync(http, LiveKitTestSigner.SignedRequest(first, envKey, envSecret));
        Assert.Equal(HttpStatusCode.OK, accepted.Status);
        Assert.True(accepted.Json.GetProperty("success").GetBoolean());
        Assert.False(accepted.Json.GetProperty("duplicate").GetBoolean());

        // The same event again (LiveKit retries, or a second node sends it), freshly signed, on the seed's route.
        var repeated = await SendAsync(http, LiveKitTestSigner.SignedRequest(first, envKey, envSecret, "api/webhook"));
        Assert.Equal(HttpStatusCode.OK, repeated.Status);
        Assert.True(repeated.Json.GetProperty("duplicate").GetBoolean());

        // Any configured key verifies its own events (rotation).
        var rotated = await SendAsync(http, LiveKitTestSigner.SignedRequest(Body("room_finished", "http-1"), rotatedKey, rotatedSecret));
        Assert.Equal(HttpStatusCode.OK, rotated.Status);

        var tampered = LiveKitTestSigner.SignedRequest(first, envKey, envSecret);
        tampered.Content = new StringContent(first.Replace("http-1", "http-2", StringComparison.Ordinal), Encoding.UTF8);
        tampered.Content.Headers.ContentType = new MediaTypeHeaderValue(LiveKitTestSigner.ContentType);
        await AssertRefusedAsync(http, tampered, HttpStatusCode.Unauthorized, "body hash mismatch");

        await AssertRefusedAsync(http, LiveKitTestSigner.SignedRequest(first, "APIunknown", envSecret), HttpStatusCode.Unauthorized, "unknown api key");
        await AssertRefusedAsync(http, LiveKitTestSigner.SignedRequest(first, envKey, RandomSecret()), HttpStatusCode.Unauthorized, "invalid signature");

        var unsigned = LiveKitTestSigner.SignedRequest(first, envKey, envSecret);
        unsigned.Headers.Remove("Authorization");
        await AssertRefusedAsync(http, unsigned, HttpStatusCode.Unauthorized, "missing authorization");

        var malformed = await SendAsync(http, LiveKitTestSigner.SignedRequest("""{"room":{"name":"x"}}""", envKey, envSecret));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.Status);
        Assert.Equal("missing event", malformed.Json.GetProperty("message").GetString());

        var plainText = LiveKitTestSigner.SignedRequest(Body("room_started", "http-3"), envKey, envSecret);
        plainText.Content!.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await http.SendAsync(plainText)).StatusCode);

        Assert.Equal(2, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts WHERE \"Provider\" = 'livekit'"));
        Assert.Equal(2, await pipeline.CountAsync("SELECT count(*) FROM ingress_outbox WHERE \"MessageType\" = 'Pipeline.Messages.Rooms.LiveKitEventV1'"));
        Assert.Equal(0, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts WHERE \"Headers\" ILIKE '%authorization%'"));
        var firstId = JsonDocument.Parse(first).RootElement.GetProperty("id").GetString();
        Assert.Equal(1, await pipeline.CountAsync($"SELECT count(*) FROM ingress_receipts WHERE \"DedupKey\" = '{firstId}'"));
    }

    [Fact]
    public async Task Without_keys_the_provider_answers_404_and_ingress_still_runs()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions { Consumers = [] });

        var request = LiveKitTestSigner.SignedRequest(Body("room_started", "off"), "APIany", RandomSecret());
        await AssertRefusedAsync(pipeline.IngressHttp, request, HttpStatusCode.NotFound, "provider not configured");
        Assert.Equal(HttpStatusCode.OK, (await pipeline.IngressHttp.GetAsync("api/webhooks/health")).StatusCode);
    }

    private static async Task AssertRefusedAsync(HttpClient http, HttpRequestMessage request, HttpStatusCode status, string reason)
    {
        var (actual, json) = await SendAsync(http, request);
        Assert.Equal(status, actual);
        Assert.False(json.GetProperty("success").GetBoolean());
        Assert.Equal(reason, json.GetProperty("error").GetString());
    }
}
