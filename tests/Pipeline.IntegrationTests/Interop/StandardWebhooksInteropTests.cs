using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Pipeline.Ingress.Providers.Generic;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Interop;

/// <summary>
/// Standard Webhooks against the npm <c>standardwebhooks</c> library: what it signs, the C# verifier and a running
/// Ingress accept; what the tests' signer (written from the specification) signs, the library accepts.
/// </summary>
public sealed class StandardWebhooksInteropTests
{
    private static readonly string[] Payloads =
    [
        """{"type":"invoice.paid","timestamp":"2025-11-08T10:00:00Z","data":{"amount":1200,"currency":"eur"}}""",
        """{"type":"note.created","data":{"text":"héllo wörld ✓ 你好 🎉","escaped":"\u00e9\"quoted\""}}""",
        """{"test": 2432232314}""",
        "{}",
    ];

    [Fact]
    public void The_tests_signer_reproduces_the_official_vector() =>
        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
            StandardWebhooksTestSigner.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}"""));

    [Fact]
    public async Task Signatures_made_by_the_npm_library_are_accepted_by_the_CSharp_verifier_and_forgeries_are_not()
    {
        var secret = StandardWebhooksTestSigner.NewSecret();
        var at = new DateTimeOffset(2025, 11, 8, 10, 0, 0, TimeSpan.Zero);
        var tolerance = TimeSpan.FromMinutes(5);
        var messages = Payloads.Select((payload, i) => (Id: $"msg_node_{i}", Timestamp: at.ToUnixTimeSeconds(), Payload: payload)).ToList();
        messages.Add(("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, """{"test": 2432232314}"""));

        var signed = await StandardWebhooksNode.SignAsync(secret, messages);
        var official = await StandardWebhooksNode.SignAsync("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", [messages[^1]]);

        for (var i = 0; i < Payloads.Length; i++)
        {
            foreach (var prefix in new[] { "webhook", "svix" })
            {
                var result = StandardWebhooksVerifier.Verify(Encoding.UTF8.GetBytes(Payloads[i]), Headers(signed[i], prefix), [secret], at, tolerance);
                Assert.True(result.IsValid, $"{prefix} {Payloads[i]}: {result.Reason}");
            }
        }

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", official[0].Signature);
        Assert.Equal(GenericReasons.SignatureMismatch, StandardWebhooksVerifier.Verify(
            Encoding.UTF8.GetBytes(Payloads[0] + " "), Headers(signed[0]), [secret], at, tolerance).Reason);
        Assert.Equal(GenericReasons.SignatureMismatch, StandardWebhooksVerifier.Verify(
            Encoding.UTF8.GetBytes(Payloads[0]), Headers(signed[0]), [StandardWebhooksTestSigner.NewSecret()], at, tolerance).Reason);
        Assert.Equal(GenericReasons.OutsideTolerance, StandardWebhooksVerifier.Verify(
            Encoding.UTF8.GetBytes(Payloads[0]), Headers(signed[0]), [secret], at.AddMinutes(6), tolerance).Reason);
    }

    private static HeaderDictionary Headers(StandardWebhooksNode.Signed signed, string prefix = "webhook") => new()
    {
        [$"{prefix}-id"] = signed.Id,
        [$"{prefix}-timestamp"] = signed.Timestamp,
        [$"{prefix}-signature"] = signed.Signature,
    };

    [Fact]
    public async Task Signatures_made_in_CSharp_are_accepted_by_the_npm_library_and_forgeries_are_not()
    {
        var secret = StandardWebhooksTestSigner.NewSecret();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var genuine = Payloads.Select((payload, i) => (payload, StandardWebhooksTestSigner.Headers(secret, $"msg_cs_{i}", now, payload))).ToList();
        var tampered = (Payloads[0].Replace("1200", "1201"), genuine[0].Item2);
        var otherKey = (Payloads[1], StandardWebhooksTestSigner.Headers(StandardWebhooksTestSigner.NewSecret(), "msg_cs_x", now, Payloads[1]));

        var results = await StandardWebhooksNode.VerifyAsync(secret, [.. genuine, tampered, otherKey]);

        Assert.Equal(Payloads.Length + 2, results.Count);
        Assert.All(results.Take(Payloads.Length), r => Assert.True(r.Ok, r.Error));
        Assert.False(results[^2].Ok);
        Assert.False(results[^1].Ok);
        Assert.Equal("No matching signature found", results[^1].Error);
    }

    [Collection(PipelineCollection.Name)]
    public sealed class ThroughIngress(TestServices services)
    {
        private const string Source = "interop";

        [Fact]
        public async Task Deliveries_signed_by_the_npm_library_are_accepted_by_Ingress_and_forgeries_are_refused()
        {
            var nodeSecret = StandardWebhooksTestSigner.NewSecret();
            await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
            {
                Consumers = [],
                IngressEnvironment =
                {
                    [$"Sources__{Source}__Scheme"] = "standard-webhooks",
                    // Rotation: the library's secret is the second of two.
                    [$"Sources__{Source}__Secrets__0"] = StandardWebhooksTestSigner.NewSecret(),
                    [$"Sources__{Source}__Secrets__1"] = nodeSecret,
                },
            });
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var messages = Payloads.Select((payload, i) => (Id: $"msg_node_{i}", Timestamp: now - i * 30, Payload: payload)).ToList();
            messages.Add(("msg_node_svix", now, Payloads[0]));
            messages.Add(("msg_node_stale", now - 600, Payloads[0]));
            messages.Add(("msg_node_future", now + 600, Payloads[0]));

            var signed = await StandardWebhooksNode.SignAsync(nodeSecret, messages);

            for (var i = 0; i < Payloads.Length; i++)
            {
                var response = await PostAsync(pipeline, Payloads[i], signed[i]);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{Payloads[i]}: {await response.Content.ReadAsStringAsync()}");
            }

            Assert.Equal(HttpStatusCode.OK, (await PostAsync(pipeline, Payloads[0], signed[Payloads.Length], "svix")).StatusCode);
            await AssertRefusedAsync(await PostAsync(pipeline, Payloads[0] + " ", signed[0]), "signature mismatch");
            await AssertRefusedAsync(await PostAsync(pipeline, Payloads[0], signed[^2]), "timestamp outside tolerance");
            await AssertRefusedAsync(await PostAsync(pipeline, Payloads[0], signed[^1]), "timestamp outside tolerance");

            Assert.Equal(Payloads.Length + 1, await pipeline.CountAsync($"SELECT count(*) FROM ingress_receipts WHERE \"Provider\" = '{Source}'"));
            Assert.Equal(1, await pipeline.CountAsync($"SELECT count(*) FROM ingress_receipts WHERE \"DedupKey\" = 'msg_node_svix'"));
        }

        private static Task<HttpResponseMessage> PostAsync(PipelineTopology pipeline, string payload, StandardWebhooksNode.Signed signed, string prefix = "webhook")
        {
            var request = new HttpRequestMessage(HttpMethod.Post, $"webhooks/{Source}")
            {
                Content = new StringContent(payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add($"{prefix}-id", signed.Id);
            request.Headers.Add($"{prefix}-timestamp", signed.Timestamp);
            request.Headers.Add($"{prefix}-signature", signed.Signature);
            return pipeline.IngressHttp.SendAsync(request);
        }

        private static async Task AssertRefusedAsync(HttpResponseMessage response, string reason)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal(reason, error.GetProperty("error").GetString());
        }
    }
}
