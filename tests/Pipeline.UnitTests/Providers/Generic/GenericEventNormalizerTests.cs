using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Pipeline.Ingress.Providers.Generic;
using static Pipeline.UnitTests.Providers.Generic.GenericTestRequests;

namespace Pipeline.UnitTests.Providers.Generic;

public class GenericEventNormalizerTests
{
    private static readonly Guid ReceiptId = Guid.CreateVersion7();
    private static readonly DateTimeOffset ReceivedAt = new(2025, 11, 8, 10, 0, 0, TimeSpan.Zero);

    private static GenericSource Source(string scheme, string? tokenHeader = null) =>
        new() { Name = "acme", Scheme = scheme, Secrets = ["0123456789abcdef0123"], TokenHeader = tokenHeader };

    private static Pipeline.Messages.Webhooks.WebhookReceivedV1 Normalize(GenericSource source, string body, IHeaderDictionary headers)
    {
        var result = GenericEventNormalizer.Normalize(source, Utf8(body), headers, ReceiptId, ReceivedAt);
        Assert.True(result.IsValid, result.Error);
        Assert.Equal(result.DedupKey, result.Value!.EventId);
        return result.Value;
    }

    private static string BodyHash(string body) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Utf8(body)));

    [Fact]
    public void Seed_004_body_gives_its_id_and_event_type_and_keeps_the_body_as_text()
    {
        const string body = """{"id":"evt-42","event_type":"agent.completed","data":{"msg":"héllo ✓"},"timestamp":1762596000.5,"source":"agent","version":"1.0"}""";
        var headers = Headers(("Content-Type", "application/json"), ("User-Agent", "LangGraph-Webhook/1.0"),
            ("X-Webhook-Signature", "sha256=00"), ("X-Webhook-Delivery", "17"), ("Authorization", "Bearer nope"));

        var message = Normalize(Source(SourceSchemes.HmacSha256), body, headers);

        Assert.Equal("acme", message.Source);
        Assert.Equal("evt-42", message.EventId);
        Assert.Equal("agent.completed", message.EventType);
        Assert.Equal(body, message.Body);
        Assert.Equal("application/json", message.ContentType);
        Assert.Equal(ReceiptId, message.ReceiptId);
        Assert.Equal(ReceivedAt, message.ReceivedAt);
        Assert.Equal(new Dictionary<string, string>
        {
            ["content-type"] = "application/json",
            ["user-agent"] = "LangGraph-Webhook/1.0",
            ["x-webhook-delivery"] = "17",
        }, message.Headers);
    }

    [Fact]
    public void Seed_event_header_wins_over_the_body_and_a_body_without_id_is_keyed_by_its_hash()
    {
        const string body = """{"event_type":"from.body","data":{}}""";

        var message = Normalize(Source(SourceSchemes.HmacSha256), body, Headers(("X-Webhook-Event", "from.header")));

        Assert.Equal("from.header", message.EventType);
        Assert.Equal(BodyHash(body), message.EventId);
    }

    [Fact]
    public void Numeric_ids_are_kept_as_written()
    {
        var message = Normalize(Source(SourceSchemes.HmacSha256), """{"id":1234567890123,"event_type":"x"}""", Headers());

        Assert.Equal("1234567890123", message.EventId);
    }

    [Fact]
    public void Standard_webhooks_id_comes_from_the_header_family_that_was_signed_and_type_from_the_body()
    {
        const string body = """{"type":"invoice.paid","timestamp":"2025-11-08T10:00:00Z","data":{}}""";

        var webhook = Normalize(Source(SourceSchemes.StandardWebhooks), body, Headers(
            ("webhook-id", "msg_1"), ("webhook-timestamp", "1762596000"), ("webhook-signature", "v1,abc"), ("svix-id", "msg_other")));
        var svix = Normalize(Source(SourceSchemes.StandardWebhooks), body, Headers(
            ("svix-id", "msg_2"), ("svix-timestamp", "1762596000"), ("svix-signature", "v1,abc")));

        Assert.Equal("msg_1", webhook.EventId);
        Assert.Equal("invoice.paid", webhook.EventType);
        Assert.Equal("msg_2", svix.EventId);
        Assert.Equal(new Dictionary<string, string> { ["svix-id"] = "msg_2", ["svix-timestamp"] = "1762596000" }, svix.Headers);
        Assert.DoesNotContain(webhook.Headers.Keys, k => k.Contains("signature", StringComparison.Ordinal));
    }

    [Fact]
    public void GitHub_is_keyed_by_its_signed_body_not_the_unsigned_delivery_header_which_is_kept()
    {
        const string body = """{"action":"opened"}""";
        var message = Normalize(Source(SourceSchemes.GitHub), body, Headers(
            ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"), ("X-GitHub-Event", "issues"),
            ("X-Hub-Signature-256", "sha256=00"), ("X-Hub-Signature", "sha1=00")));
        var replayed = Normalize(Source(SourceSchemes.GitHub), body, Headers(
            ("X-GitHub-Delivery", "00000000-0000-0000-0000-000000000001"), ("X-GitHub-Event", "issues")));

        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(body))), message.EventId);
        Assert.Equal(message.EventId, replayed.EventId);
        Assert.Equal("issues", message.EventType);
        Assert.Equal(["x-github-delivery", "x-github-event"], message.Headers.Keys.Order());
        Assert.Equal("72d3162e-cc78-11e3-81ab-4c9367dc0958", message.Headers["x-github-delivery"]);
    }

    [Fact]
    public void Stripe_id_and_type_come_from_the_event_body()
    {
        var message = Normalize(Source(SourceSchemes.Stripe), """{"id":"evt_1","object":"event","type":"charge.refunded"}""",
            Headers(("Stripe-Signature", "t=1,v1=00")));

        Assert.Equal("evt_1", message.EventId);
        Assert.Equal("charge.refunded", message.EventType);
        Assert.Empty(message.Headers);
    }

    [Fact]
    public void Slack_event_callbacks_use_event_id_and_the_inner_event_type()
    {
        var message = Normalize(Source(SourceSchemes.Slack),
            """{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention","text":"hi"}}""",
            Headers(("X-Slack-Request-Timestamp", "1531420618"), ("X-Slack-Retry-Num", "1"), ("X-Slack-Signature", "v0=00")));

        Assert.Equal("Ev08MFMKH6", message.EventId);
        Assert.Equal("app_mention", message.EventType);
        Assert.Equal(new Dictionary<string, string> { ["x-slack-request-timestamp"] = "1531420618", ["x-slack-retry-num"] = "1" }, message.Headers);
    }

    [Fact]
    public void Slack_forms_are_keyed_by_hash_and_typed_by_command_or_payload_type()
    {
        const string command = "token=x&command=%2Fdeploy&text=prod&trigger_id=1.2.3";
        const string interaction = "payload=%7B%22type%22%3A%22block_actions%22%7D";
        var form = Headers(("Content-Type", "application/x-www-form-urlencoded"));

        var slash = Normalize(Source(SourceSchemes.Slack), command, form);
        var action = Normalize(Source(SourceSchemes.Slack), interaction, form);

        Assert.Equal("/deploy", slash.EventType);
        Assert.Equal(BodyHash(command), slash.EventId);
        Assert.Equal("block_actions", action.EventType);
    }

    [Fact]
    public void Slack_url_verification_challenge_is_found()
    {
        Assert.Equal("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            GenericEventNormalizer.SlackChallenge(Utf8("""{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}""")));
        Assert.Null(GenericEventNormalizer.SlackChallenge(Utf8("""{"challenge":"abc","type":"event_callback"}""")));
    }

    [Fact]
    public void LangGraph_run_is_keyed_by_run_id_and_typed_by_status()
    {
        const string body = """{"run_id":"1ef6-run","thread_id":"t1","assistant_id":"a1","status":"success","metadata":{}}""";

        var message = Normalize(Source(SourceSchemes.Token, tokenHeader: "X-Pipeline-Token"), body,
            Headers(("Content-Type", "text/plain; charset=utf-8"), ("X-Pipeline-Token", "secret-token-value"), ("User-Agent", "python-httpx/0.27")));

        Assert.Equal("1ef6-run", message.EventId);
        Assert.Equal("success", message.EventType);
        Assert.Equal("text/plain; charset=utf-8", message.ContentType);
        Assert.Equal(new Dictionary<string, string> { ["content-type"] = "text/plain; charset=utf-8", ["user-agent"] = "python-httpx/0.27" }, message.Headers);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("""["an","array"]""")]
    [InlineData("""{"run_id":"x"} trailing""")]
    [InlineData("")]
    [InlineData("""{"run_id":"","status":5}""")]
    public void Bodies_without_a_usable_id_are_keyed_by_their_hash_and_still_accepted(string body)
    {
        var message = Normalize(Source(SourceSchemes.Token), body, Headers());

        Assert.Equal(BodyHash(body), message.EventId);
        Assert.Equal(body, message.Body);
    }

    [Theory]
    [InlineData(SourceSchemes.HmacSha256, "not json at all")]
    [InlineData(SourceSchemes.StandardWebhooks, "")]
    [InlineData(SourceSchemes.Stripe, """{"id":"evt_1"} trailing""")]
    [InlineData(SourceSchemes.GitHub, "<xml/>")]
    [InlineData(SourceSchemes.Slack, "{unquoted: 1}")]
    public void A_json_scheme_answers_a_body_that_is_not_json_as_malformed(string scheme, string body)
    {
        var result = GenericEventNormalizer.Normalize(Source(scheme), Utf8(body), Headers(), ReceiptId, ReceivedAt);

        Assert.False(result.IsValid);
        Assert.Equal(GenericReasons.NotJson, result.Error);
    }

    [Theory]
    [InlineData(SourceSchemes.HmacSha256, """["an","array"]""")]
    [InlineData(SourceSchemes.HmacSha256, "\uFEFF{\"event_type\":\"agent.started\"}")]
    [InlineData(SourceSchemes.StandardWebhooks, "42")]
    public void A_json_scheme_takes_any_json_value(string scheme, string body)
    {
        Assert.True(GenericEventNormalizer.Normalize(Source(scheme), Utf8(body), Headers(), ReceiptId, ReceivedAt).IsValid);
    }

    [Fact]
    public void Format_raw_keeps_any_body_for_a_json_scheme_and_forms_stay_forms()
    {
        var raw = new GenericSource { Name = "acme", Scheme = SourceSchemes.HmacSha256, Secrets = ["0123456789abcdef0123"], ConfiguredFormat = "raw" };
        Assert.True(GenericEventNormalizer.Normalize(raw, Utf8("plain text"), Headers(), ReceiptId, ReceivedAt).IsValid);

        var form = Headers(("Content-Type", "application/x-www-form-urlencoded"));
        Assert.True(GenericEventNormalizer.Normalize(Source(SourceSchemes.Slack), Utf8("command=%2Fdeploy&text=now"), form, ReceiptId, ReceivedAt).IsValid);
        Assert.True(GenericEventNormalizer.Normalize(Source(SourceSchemes.GitHub), Utf8("payload=%7B%7D"), form, ReceiptId, ReceivedAt).IsValid);
        Assert.False(GenericEventNormalizer.Normalize(Source(SourceSchemes.Stripe), Utf8("a=b"), form, ReceiptId, ReceivedAt).IsValid);
    }

    [Fact]
    public void A_bom_before_the_json_does_not_hide_the_id()
    {
        var message = Normalize(Source(SourceSchemes.Token), "\uFEFF{\"run_id\":\"r-bom\"}", Headers());

        Assert.Equal("r-bom", message.EventId);
    }

    [Fact]
    public void An_id_longer_than_the_dedup_column_is_keyed_by_its_hash()
    {
        var id = new string('x', 500);

        var message = Normalize(Source(SourceSchemes.Stripe), $$"""{"id":"{{id}}","type":"t"}""", Headers());

        Assert.StartsWith("id-sha256:", message.EventId, StringComparison.Ordinal);
        Assert.True(message.EventId.Length <= Pipeline.Persistence.ColumnLengths.DedupKey);
    }

    [Fact]
    public void A_body_that_is_not_utf8_is_malformed()
    {
        var result = GenericEventNormalizer.Normalize(Source(SourceSchemes.Token), [0x7B, 0xC3, 0x28, 0x7D], Headers(), ReceiptId, ReceivedAt);

        Assert.False(result.IsValid);
        Assert.Equal(GenericReasons.NotUtf8, result.Error);
    }

    [Theory]
    [InlineData(SourceSchemes.Token, "{\"run_id\":\"r\\u0000\",\"status\":\"done\"}")]
    [InlineData(SourceSchemes.Stripe, "{\"id\":\"evt_1\",\"type\":\"\\u0000\"}")]
    [InlineData(SourceSchemes.Token, "a raw body with a \u0000 byte")]
    public void A_NUL_character_in_what_is_forwarded_is_malformed(string scheme, string body)
    {
        var result = GenericEventNormalizer.Normalize(Source(scheme), Utf8(body), Headers(), ReceiptId, ReceivedAt);

        Assert.False(result.IsValid);
        Assert.Equal(GenericReasons.NulCharacter, result.Error);
    }

    [Fact]
    public void Long_header_values_are_cut()
    {
        var message = Normalize(Source(SourceSchemes.Token), "{}", Headers(("User-Agent", new string('a', 2000))));

        Assert.Equal(512, message.Headers["user-agent"].Length);
    }
}
