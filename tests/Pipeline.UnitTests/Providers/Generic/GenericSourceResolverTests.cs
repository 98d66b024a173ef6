using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Pipeline.Ingress.Providers.Generic;
using Pipeline.Ingress.Receipts;
using Pipeline.Ingress.Webhooks;
using Pipeline.Messages.Webhooks;
using static Pipeline.UnitTests.Providers.Generic.GenericTestRequests;

namespace Pipeline.UnitTests.Providers.Generic;

/// <summary>The route a configured source gets: verification, normalization and the configuration reloaded without a restart.</summary>
public class GenericSourceResolverTests
{
    private static readonly DateTimeOffset Now = new(2025, 11, 8, 10, 0, 0, TimeSpan.Zero);

    private static HttpRequest Request(string? contentType = null, string? query = null, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        foreach (var (name, value) in headers)
        {
            context.Request.Headers.Append(name, value);
        }

        context.Request.ContentType = contentType;
        if (query is not null)
        {
            context.Request.QueryString = new QueryString(query);
        }

        return context.Request;
    }

    private static HttpRequest SeedRequest(string secret, string body) =>
        Request("application/json", null, ("X-Webhook-Signature", "sha256=" + HexHmac(secret, body)), ("X-Webhook-Event", "agent.completed"));

    private static WebhookReceivedV1 Message(WebhookNormalization normalization) =>
        Assert.IsType<WebhookReceivedV1>(Assert.Single(normalization.Messages));

    [Fact]
    public void Unknown_names_resolve_to_nothing()
    {
        using var host = new GenericSourcesTestHost(new() { ["Sources:acme:Scheme"] = "github", ["Sources:acme:Secrets:0"] = TextSecret() });

        Assert.Null(host.Resolver.Resolve("other"));
        Assert.Null(host.Resolver.Resolve("e2b"));
        Assert.NotNull(host.Resolver.Resolve("acme"));
    }

    [Fact]
    public async Task A_configured_standard_webhooks_source_verifies_the_official_vector_and_publishes_one_message()
    {
        const string body = """{"test": 2432232314}""";
        using var host = new GenericSourcesTestHost(new()
        {
            ["Sources:billing:Scheme"] = "standard-webhooks",
            ["Sources:billing:Secrets:0"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        }, DateTimeOffset.FromUnixTimeSeconds(1614265330));
        var route = host.Resolver.Resolve("billing")!;
        var request = Request("application/json", null, ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"), ("webhook-timestamp", "1614265330"),
            ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));

        var verification = await route.VerifyAsync(Utf8(body), request);
        var receiptId = Guid.CreateVersion7();
        var normalized = route.Normalize(Utf8(body), receiptId, request);

        Assert.True(verification.IsValid, verification.Reason);
        Assert.Equal("billing", route.Name);
        Assert.Null(normalized.Error);
        Assert.Equal("msg_p5jXN8AQM9LWM0D4loKWxJek", normalized.DedupKey);
        var message = Message(normalized);
        Assert.Equal("billing", message.Source);
        Assert.Equal(receiptId, message.ReceiptId);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1614265330), message.ReceivedAt);
        Assert.DoesNotContain("webhook-signature", route.KeptHeaders);
    }

    [Fact]
    public async Task The_injected_clock_decides_the_tolerance()
    {
        const string body = """{"test": 2432232314}""";
        using var host = new GenericSourcesTestHost(new()
        {
            ["Sources:billing:Scheme"] = "standard-webhooks",
            ["Sources:billing:Secrets:0"] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ["Sources:billing:Tolerance"] = "00:00:30",
        }, DateTimeOffset.FromUnixTimeSeconds(1614265330 + 31));
        var request = Request("application/json", null, ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"), ("webhook-timestamp", "1614265330"),
            ("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));

        var verification = await host.Resolver.Resolve("billing")!.VerifyAsync(Utf8(body), request);

        Assert.Equal(GenericReasons.OutsideTolerance, verification.Reason);
    }

    [Fact]
    public async Task A_genuine_body_that_is_not_utf8_is_400_but_a_forged_one_is_still_401()
    {
        var secret = TextSecret();
        using var host = new GenericSourcesTestHost(new() { ["Sources:agents:Scheme"] = "github", ["Sources:agents:Secrets:0"] = secret });
        var route = host.Resolver.Resolve("agents")!;
        byte[] body = [0x7B, 0x22, 0xFF, 0x22, 0x7D];
        var signature = "sha256=" + Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Utf8(secret), body));

        var genuine = await route.VerifyAsync(body, Request("application/json", null, ("X-Hub-Signature-256", signature)));
        var forged = await route.VerifyAsync(body, Request("application/json", null, ("X-Hub-Signature-256", "sha256=" + new string('0', 64))));

        Assert.Equal((false, GenericReasons.NotUtf8, 400), (genuine.IsValid, genuine.Reason, genuine.Status));
        Assert.Equal((false, GenericReasons.SignatureMismatch, 401), (forged.IsValid, forged.Reason, forged.Status));
    }

    [Fact]
    public async Task A_source_without_secrets_answers_404_whatever_it_is_sent()
    {
        using var host = new GenericSourcesTestHost(new() { ["Sources:later:Scheme"] = "hmac-sha256" });
        var route = host.Resolver.Resolve("later")!;

        var result = await route.VerifyAsync(Utf8("{}"), SeedRequest(TextSecret(), "{}"));

        Assert.Equal((false, GenericReasons.NotConfigured, 404), (result.IsValid, result.Reason, result.Status));
        // The request path answers 404 with this before it looks at the content type or the body.
        Assert.Equal("Sources:later:Secrets", route.MissingSetting);
    }

    [Fact]
    public async Task Sources_added_rotated_and_removed_take_effect_without_a_restart()
    {
        var old = TextSecret();
        var current = TextSecret();
        const string body = """{"id":"evt-1","event_type":"agent.completed"}""";
        using var host = new GenericSourcesTestHost(new() { ["Sources:agents:Scheme"] = "hmac-sha256", ["Sources:agents:Secrets:0"] = old }, Now);
        Assert.True((await host.Resolver.Resolve("agents")!.VerifyAsync(Utf8(body), SeedRequest(old, body))).IsValid);
        Assert.Null(host.Resolver.Resolve("runs"));

        // Rotation: the new secret is added first, then the old one removed.
        host.Change(new Dictionary<string, string?>
        {
            ["Sources:agents:Secrets:1"] = current,
            ["Sources:runs:Scheme"] = "token",
            ["Sources:runs:Secrets:0"] = current,
        });
        Assert.True((await host.Resolver.Resolve("agents")!.VerifyAsync(Utf8(body), SeedRequest(old, body))).IsValid);
        Assert.True((await host.Resolver.Resolve("agents")!.VerifyAsync(Utf8(body), SeedRequest(current, body))).IsValid);
        Assert.True((await host.Resolver.Resolve("runs")!.VerifyAsync(Utf8("{}"), Request(null, "?token=" + current))).IsValid);

        host.Change(new Dictionary<string, string?> { ["Sources:agents:Secrets:0"] = "" });
        Assert.Equal(GenericReasons.SignatureMismatch, (await host.Resolver.Resolve("agents")!.VerifyAsync(Utf8(body), SeedRequest(old, body))).Reason);
        Assert.True((await host.Resolver.Resolve("agents")!.VerifyAsync(Utf8(body), SeedRequest(current, body))).IsValid);
    }

    [Fact]
    public async Task An_invalid_reload_is_ignored_and_the_last_valid_configuration_stays()
    {
        var secret = TextSecret();
        const string body = """{"id":"evt-1"}""";
        using var host = new GenericSourcesTestHost(new() { ["Sources:agents:Scheme"] = "hmac-sha256", ["Sources:agents:Secrets:0"] = secret }, Now);
        Assert.NotNull(host.Resolver.Resolve("agents"));

        host.Change(new Dictionary<string, string?> { ["Sources:agents:Secrets:0"] = "weak", ["Sources:new:Scheme"] = "github" });
        Assert.True((await host.Resolver.Resolve("agents")!.VerifyAsync(Utf8(body), SeedRequest(secret, body))).IsValid);
        Assert.Null(host.Resolver.Resolve("new"));

        // Fixed again: the new configuration applies.
        host.Change(new Dictionary<string, string?> { ["Sources:agents:Secrets:0"] = secret + "-v2" });
        Assert.NotNull(host.Resolver.Resolve("new"));
        Assert.Equal(GenericReasons.SignatureMismatch, (await host.Resolver.Resolve("agents")!.VerifyAsync(Utf8(body), SeedRequest(secret, body))).Reason);
    }

    [Theory]
    [InlineData("token", null, true)]
    [InlineData("token", "text/plain", true)]
    [InlineData("token", "text/plain; charset=utf-8", true)]
    [InlineData("token", "application/json", true)]
    [InlineData("token", "text/html", false)]
    [InlineData("slack", "application/x-www-form-urlencoded", true)]
    [InlineData("slack", "application/json", true)]
    [InlineData("github", "application/x-www-form-urlencoded", true)]
    [InlineData("hmac-sha256", "text/plain", false)]
    [InlineData("hmac-sha256", "application/x-www-form-urlencoded", false)]
    [InlineData("standard-webhooks", "application/json; charset=utf-8", true)]
    [InlineData("stripe", "text/plain", false)]
    public void Content_types_accepted_per_scheme(string scheme, string? contentType, bool accepted)
    {
        using var host = new GenericSourcesTestHost(new()
        {
            ["Sources:acme:Scheme"] = scheme,
            ["Sources:acme:Secrets:0"] = scheme == "standard-webhooks" ? WhsecSecret() : TextSecret(),
        });

        Assert.Equal(accepted, host.Resolver.Resolve("acme")!.AcceptsContentType(contentType));
    }

    [Fact]
    public void Max_body_bytes_applies_to_the_route()
    {
        using var host = new GenericSourcesTestHost(new()
        {
            ["Sources:acme:Scheme"] = "github", ["Sources:acme:Secrets:0"] = TextSecret(), ["Sources:acme:MaxBodyBytes"] = "4096",
            ["Sources:other:Scheme"] = "github", ["Sources:other:Secrets:0"] = TextSecret(),
        });

        Assert.Equal(4096, host.Resolver.Resolve("acme")!.MaxBodyBytes);
        Assert.Null(host.Resolver.Resolve("other")!.MaxBodyBytes);
    }

    [Fact]
    public async Task The_token_header_and_the_token_query_value_are_never_recorded()
    {
        var token = TextSecret();
        const string body = """{"run_id":"r-1","status":"success"}""";
        using var host = new GenericSourcesTestHost(new()
        {
            ["Sources:runs:Scheme"] = "token",
            ["Sources:runs:Secrets:0"] = token,
            ["Sources:runs:TokenHeader"] = "User-Agent", // perverse, but it must still not be kept
            ["Sources:query:Scheme"] = "token",
            ["Sources:query:Secrets:0"] = token,
        });
        var byHeader = host.Resolver.Resolve("runs")!;
        var byQuery = host.Resolver.Resolve("query")!;
        var headerRequest = Request(null, null, ("User-Agent", token));
        var queryRequest = Request("text/plain", "?token=" + token, ("User-Agent", "python-httpx/0.27"));

        Assert.True((await byHeader.VerifyAsync(Utf8(body), headerRequest)).IsValid);
        Assert.True((await byQuery.VerifyAsync(Utf8(body), queryRequest)).IsValid);
        var fromHeader = Message(byHeader.Normalize(Utf8(body), Guid.CreateVersion7(), headerRequest));
        var fromQuery = Message(byQuery.Normalize(Utf8(body), Guid.CreateVersion7(), queryRequest));

        Assert.DoesNotContain("user-agent", byHeader.KeptHeaders);
        Assert.DoesNotContain(token, JsonSerializer.Serialize(fromHeader), StringComparison.Ordinal);
        Assert.DoesNotContain(token, JsonSerializer.Serialize(fromQuery), StringComparison.Ordinal);
        Assert.DoesNotContain(token, WebhookResponses.KeepHeaders(queryRequest.Headers, byQuery.KeptHeaders), StringComparison.Ordinal);
        Assert.Equal("r-1", fromQuery.EventId);
        Assert.Equal("success", fromQuery.EventType);
    }

    [Fact]
    public async Task Slack_url_verification_is_answered_with_the_challenge()
    {
        var secret = TextSecret();
        const string body = """{"token":"x","challenge":"ch-123","type":"url_verification"}""";
        using var host = new GenericSourcesTestHost(new() { ["Sources:slack:Scheme"] = "slack", ["Sources:slack:Secrets:0"] = secret }, Now);
        var route = host.Resolver.Resolve("slack")!;
        var ts = Unix(Now).ToString();
        var request = Request("application/json", null, ("X-Slack-Request-Timestamp", ts), ("X-Slack-Signature", "v0=" + HexHmac(secret, $"v0:{ts}:{body}")));

        Assert.True((await route.VerifyAsync(Utf8(body), request)).IsValid);
        var normalized = route.Normalize(Utf8(body), Guid.CreateVersion7(), request);
        Assert.NotNull(normalized.Respond);

        var context = new DefaultHttpContext { RequestServices = host.Services, Response = { Body = new MemoryStream() } };
        await normalized.Respond(AcceptOutcome.Accepted, Guid.CreateVersion7()).ExecuteAsync(context);
        context.Response.Body.Position = 0;
        var answer = await JsonDocument.ParseAsync(context.Response.Body);
        Assert.Equal("ch-123", answer.RootElement.GetProperty("challenge").GetString());
    }

    [Fact]
    public void Other_deliveries_get_the_default_answer()
    {
        var secret = TextSecret();
        const string body = """{"id":"evt-1"}""";
        using var host = new GenericSourcesTestHost(new() { ["Sources:agents:Scheme"] = "hmac-sha256", ["Sources:agents:Secrets:0"] = secret }, Now);

        var normalized = host.Resolver.Resolve("agents")!.Normalize(Utf8(body), Guid.CreateVersion7(), SeedRequest(secret, body));

        Assert.Null(normalized.Respond);
        Assert.Equal("agent.completed", normalized.Description);
    }
}
