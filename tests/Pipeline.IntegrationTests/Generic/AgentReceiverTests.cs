using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Generic;

/// <summary>What the agent platform's own receiver (seed 004) answers besides webhooks.</summary>
[Collection(PipelineCollection.Name)]
public sealed class AgentReceiverTests(TestServices services)
{
    [Fact]
    public async Task Webhooks_health_answers_as_the_seed_receiver_does_without_a_key()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions { Consumers = [] });
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;

        using var response = await pipeline.IngressHttp.GetAsync("webhooks/health");
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("healthy", json.GetProperty("status").GetString());
        var timestamp = json.GetProperty("timestamp").GetDouble(); // Unix seconds with a fraction, as Python's time.time()
        Assert.InRange(timestamp, before - 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0 + 1);
    }

    [Fact]
    public async Task A_json_source_answers_400_to_a_signed_body_that_is_not_json_or_a_timestamp_that_does_not_parse_and_raw_takes_any_body()
    {
        var secret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [],
            IngressEnvironment =
            {
                ["Sources__langgraph__Scheme"] = "hmac-sha256", ["Sources__langgraph__Secrets__0"] = secret,
                ["Sources__notes__Scheme"] = "hmac-sha256", ["Sources__notes__Secrets__0"] = secret, ["Sources__notes__Format"] = "raw",
            },
        });

        var notJson = await PostAsync(pipeline, "langgraph", "agent finished", secret, DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString());
        await AssertErrorAsync(notJson, HttpStatusCode.BadRequest, "malformed body", "body is not JSON");
        var badTimestamp = await PostAsync(pipeline, "langgraph", """{"id":"e-1","event_type":"agent_started"}""", secret, "yesterday");
        await AssertErrorAsync(badTimestamp, HttpStatusCode.BadRequest, "malformed timestamp", "malformed timestamp");
        Assert.Equal(0, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));

        var raw = await PostAsync(pipeline, "notes", "agent finished", secret, DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString());
        Assert.Equal(HttpStatusCode.OK, raw.StatusCode);
        var json = await PostAsync(pipeline, "langgraph", """{"id":"e-2","event_type":"agent_started"}""", secret, DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString());
        Assert.Equal(HttpStatusCode.OK, json.StatusCode);
        Assert.Equal(2, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
    }

    private static Task<HttpResponseMessage> PostAsync(PipelineTopology pipeline, string source, string body, string secret, string timestamp)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"webhooks/{source}") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Webhook-Signature", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body))));
        request.Headers.Add("X-Webhook-Event", "agent_started");
        request.Headers.Add("X-Webhook-Timestamp", timestamp);
        return pipeline.IngressHttp.SendAsync(request);
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string error, string message)
    {
        Assert.Equal(status, response.StatusCode);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(error, json.GetProperty("error").GetString());
        Assert.Equal(message, json.GetProperty("message").GetString());
    }
}
