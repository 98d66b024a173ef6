using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Pipeline.Ingress.Providers.Generic;
using Pipeline.Ingress.Providers.LiveKit;
using Pipeline.Ingress.Providers.NewApi;
using Pipeline.Ingress.Webhooks;
using Pipeline.Messages.Credits;
using Pipeline.Ops.TestEvents;

namespace Pipeline.UnitTests.Ops;

/// <summary>
/// pipeline-ops send-test: every generated request goes through Ingress's own verifier and normalizer, as the route
/// would put it through; it verifies and normalizes with the right secret and is refused with a wrong one.
/// </summary>
public class SendTestEventTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static string Secret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    private static byte[] Body(TestRequest request) => Encoding.UTF8.GetBytes(request.Body);

    /// <summary>The request as Ingress sees it: headers, Content-Type, path and query string.</summary>
    private static HttpRequest HttpRequest(TestRequest request)
    {
        var context = new DefaultHttpContext();
        var uri = new Uri(new Uri("http://127.0.0.1/"), request.Path);
        context.Request.Method = "POST";
        context.Request.Path = uri.AbsolutePath;
        context.Request.QueryString = new QueryString(uri.Query);
        context.Request.ContentType = request.ContentType;
        foreach (var (name, value) in request.Headers)
        {
            context.Request.Headers.Append(name, value);
        }

        return context.Request;
    }

    [Fact]
    public void The_tool_reads_the_same_variables_and_scheme_names_as_Ingress()
    {
        Assert.Equal(LiveKitOptions.ApiKeyVariable, LiveKitTestEvent.ApiKeyVariable);
        Assert.Equal(LiveKitOptions.ApiSecretVariable, LiveKitTestEvent.ApiSecretVariable);
        Assert.Equal(NewApiOptions.SecretVariable, NewApiTestEvent.SecretVariable);
        Assert.Equal(NewApiOptions.SeedSecretVariable, NewApiTestEvent.SeedSecretVariable);
        Assert.Equal(SourceSchemes.All, SourceTestEvent.Schemes);
        Assert.Equal("Sources__acme__Secrets__0", SourceTestEvent.SecretVariable("acme"));
        Assert.Equal($"{GenericSourcesOptions.Section}__acme__{nameof(GenericSourceOptions.Scheme)}", SourceTestEvent.SchemeVariable("acme"));
    }

    public static TheoryData<string> LiveKitEvents() => [.. LiveKitTestEvent.Events];

    [Theory]
    [MemberData(nameof(LiveKitEvents))]
    public async Task A_LiveKit_test_event_verifies_with_its_api_secret_and_normalizes(string eventName)
    {
        var secret = Secret();
        var request = LiveKitTestEvent.Build(eventName, "demo-room", "alice", "APIkey1", secret, Now);
        Assert.Equal("webhooks/livekit", request.Path);
        Assert.True(WebhookBody.IsJson(request.ContentType));

        var http = HttpRequest(request);
        var verifier = new LiveKitSignatureVerifier(new Dictionary<string, string> { ["APIkey1"] = secret }, TimeSpan.FromSeconds(60), new FixedClock(Now));
        var verified = await verifier.VerifyAsync(Body(request), http.Headers.Authorization[0]);
        Assert.True(verified.IsValid, verified.Reason);

        var receiptId = Guid.NewGuid();
        var normalized = LiveKitEventNormalizer.Normalize(Body(request), receiptId, Now.AddMinutes(1));
        Assert.True(normalized.IsValid, normalized.Error);
        var message = normalized.Value!;
        Assert.Equal(eventName, message.Event);
        Assert.StartsWith("EV_", message.EventId);
        Assert.Equal(message.EventId, normalized.DedupKey);
        Assert.Equal(Now.ToUnixTimeSeconds(), message.CreatedAt.ToUnixTimeSeconds());
        Assert.Equal(receiptId, message.ReceiptId);
        Assert.Contains("demo-room", LiveKitEventNormalizer.Describe(message));
        if (eventName.StartsWith("participant_", StringComparison.Ordinal) || eventName.StartsWith("track_", StringComparison.Ordinal))
        {
            Assert.Equal("alice", message.Participant!.Identity);
        }

        if (eventName.StartsWith("track_", StringComparison.Ordinal))
        {
            Assert.Equal("AUDIO", message.Track!.Type);
        }

        if (eventName == "egress_ended")
        {
            Assert.Equal("EGRESS_COMPLETE", message.Egress!.Status);
            Assert.NotNull(message.Egress.EndedAt);
            Assert.Equal(["s3://recordings/demo-room.mp4"], message.Egress.Locations!);
        }

        if (eventName.StartsWith("room_", StringComparison.Ordinal))
        {
            Assert.Equal("demo-room", message.Room!.Name);
        }
    }

    [Fact]
    public async Task A_LiveKit_test_event_is_refused_with_another_secret_or_key_and_agrees_on_room_ids()
    {
        var secret = Secret();
        var request = LiveKitTestEvent.Build("room_started", "demo-room", "alice", "APIkey1", secret, Now);
        var token = HttpRequest(request).Headers.Authorization[0];

        var wrongSecret = new LiveKitSignatureVerifier(new Dictionary<string, string> { ["APIkey1"] = Secret() }, TimeSpan.FromSeconds(60), new FixedClock(Now));
        Assert.Equal("invalid signature", (await wrongSecret.VerifyAsync(Body(request), token)).Reason);
        var otherKey = new LiveKitSignatureVerifier(new Dictionary<string, string> { ["APIkey2"] = secret }, TimeSpan.FromSeconds(60), new FixedClock(Now));
        Assert.Equal("unknown api key", (await otherKey.VerifyAsync(Body(request), token)).Reason);

        // Another body under the same token: the sha256 claim no longer matches.
        var right = new LiveKitSignatureVerifier(new Dictionary<string, string> { ["APIkey1"] = secret }, TimeSpan.FromSeconds(60), new FixedClock(Now));
        Assert.Equal("body hash mismatch", (await right.VerifyAsync(Encoding.UTF8.GetBytes(request.Body + " "), token)).Reason);

        // Expired after 5 minutes (plus the skew), as LiveKit's own tokens are.
        var later = new LiveKitSignatureVerifier(new Dictionary<string, string> { ["APIkey1"] = secret }, TimeSpan.FromSeconds(60), new FixedClock(Now.AddMinutes(7)));
        Assert.Equal("token expired", (await later.VerifyAsync(Body(request), token)).Reason);

        // room_finished in a later call names the same room sid, so the two events meet in the Rooms service.
        var finished = LiveKitTestEvent.Build("room_finished", "demo-room", "alice", "APIkey1", secret, Now.AddMinutes(1));
        var started = LiveKitEventNormalizer.Normalize(Body(request), Guid.NewGuid(), Now).Value!;
        var ended = LiveKitEventNormalizer.Normalize(Body(finished), Guid.NewGuid(), Now).Value!;
        Assert.Equal(started.Room!.Sid, ended.Room!.Sid);
        Assert.NotEqual(started.EventId, ended.EventId);
    }

    [Fact]
    public async Task A_LiveKit_token_signed_with_a_short_secret_verifies_as_LiveKits_own()
    {
        // PROVIDERS.md's vector uses a 7-character secret, which IdentityModel would refuse as a key unpadded.
        var request = LiveKitTestEvent.Build("participant_joined", "r", "bob", "abcdefg", "abababa", Now);
        var verifier = new LiveKitSignatureVerifier(new Dictionary<string, string> { ["abcdefg"] = "abababa" }, TimeSpan.FromSeconds(60), new FixedClock(Now));
        var verified = await verifier.VerifyAsync(Body(request), HttpRequest(request).Headers.Authorization[0]);
        Assert.True(verified.IsValid, verified.Reason);
    }

    [Theory]
    [InlineData("hmac", NewApiSignatureVerifier.HmacScheme)]
    [InlineData("bearer", NewApiSignatureVerifier.BearerScheme)]
    public void A_new_api_consume_event_verifies_and_becomes_a_usage_record(string auth, string scheme)
    {
        var secret = Secret();
        var request = NewApiTestEvent.Build("consume", "42", 2500, "req-abc", auth, secret, Now);
        Assert.Equal("webhooks/new-api", request.Path);
        var http = HttpRequest(request);

        var verified = NewApiSignatureVerifier.Verify(Body(request), http.Headers, [Secret(), secret]);
        Assert.True(verified.IsValid, verified.Reason);
        Assert.Equal(scheme, verified.Reason);
        Assert.False(NewApiSignatureVerifier.Verify(Body(request), http.Headers, [Secret()]).IsValid);

        var normalized = NewApiEventNormalizer.Normalize(Body(request), Guid.NewGuid());
        Assert.True(normalized.IsValid, normalized.Error);
        var usage = Assert.IsType<UsageRecordedV1>(normalized.Value);
        Assert.Equal("req-abc", usage.RequestId);
        Assert.Equal("42", usage.UserId);
        Assert.Equal(2500, usage.Quota);
        Assert.Equal(Now.ToUnixTimeSeconds(), usage.OccurredAt.ToUnixTimeSeconds());
        Assert.Equal(NewApiEventNormalizer.ConsumeKeyPrefix + "req-abc", normalized.DedupKey);
    }

    [Fact]
    public void A_new_api_consume_event_without_a_request_id_gets_a_fresh_one_and_a_text_user_passes()
    {
        var secret = Secret();
        var first = NewApiEventNormalizer.Normalize(Body(NewApiTestEvent.Build("consume", "team-a", 1, null, "hmac", secret, Now)), Guid.NewGuid());
        var second = NewApiEventNormalizer.Normalize(Body(NewApiTestEvent.Build("consume", "team-a", 1, null, "hmac", secret, Now)), Guid.NewGuid());
        Assert.Equal("team-a", Assert.IsType<UsageRecordedV1>(first.Value).UserId);
        Assert.NotEqual(first.DedupKey, second.DedupKey);
    }

    [Theory]
    [InlineData("quota_exceed")]
    [InlineData("channel_update")]
    [InlineData("channel_test")]
    public void A_new_api_notification_verifies_and_passes_on(string type)
    {
        var secret = Secret();
        var request = NewApiTestEvent.Build(type, "7", 0, null, "hmac", secret, Now);
        var http = HttpRequest(request);
        Assert.True(NewApiSignatureVerifier.Verify(Body(request), http.Headers, [secret]).IsValid);
        Assert.Equal("signature mismatch", NewApiSignatureVerifier.Verify(Body(request), http.Headers, [Secret()]).Reason);

        var normalized = NewApiEventNormalizer.Normalize(Body(request), Guid.NewGuid());
        var notification = Assert.IsType<GatewayNotificationV1>(normalized.Value);
        Assert.Equal(type, notification.Type);
        Assert.False(string.IsNullOrEmpty(notification.Title));
    }

    public static TheoryData<string, string?> Schemes() => new()
    {
        { SourceSchemes.StandardWebhooks, null },
        { SourceSchemes.HmacSha256, "test.event" },
        { SourceSchemes.GitHub, "ping" },
        { SourceSchemes.Stripe, "test.event" },
        { SourceSchemes.Slack, "app_mention" },
        { SourceSchemes.Token, "success" },
    };

    [Theory]
    [MemberData(nameof(Schemes))]
    public void A_source_test_event_verifies_with_its_scheme_and_normalizes(string scheme, string? eventType)
    {
        var secret = scheme == SourceSchemes.StandardWebhooks ? "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)) : Secret();
        var source = GenericSource.From("acme", new GenericSourceOptions { Scheme = scheme, Secrets = [secret] });
        var request = SourceTestEvent.Build("acme", scheme, secret, body: null, tokenHeader: null, Now);
        var http = HttpRequest(request);
        Assert.Equal("/webhooks/acme", http.Path);
        Assert.True(SourceSchemes.AcceptsContentType(scheme)(request.ContentType));
        Assert.DoesNotContain(secret, request.PrintablePath);

        var verified = GenericSourceVerifier.Verify(source, Body(request), http, Now);
        Assert.True(verified.IsValid, verified.Reason);
        Assert.Equal(scheme, verified.Reason);

        var normalized = GenericEventNormalizer.Normalize(source, Body(request), http.Headers, Guid.NewGuid(), Now);
        Assert.True(normalized.IsValid, normalized.Error);
        Assert.Equal("acme", normalized.Value!.Source);
        Assert.Equal(request.Body, normalized.Value.Body);
        // Two samples are two events, never a duplicate: each has its own id, or (GitHub, keyed by its body) its own body.
        var second = SourceTestEvent.Build("acme", scheme, secret, body: null, tokenHeader: null, Now);
        var secondKey = GenericEventNormalizer.Normalize(source, Body(second), HttpRequest(second).Headers, Guid.NewGuid(), Now).DedupKey;
        Assert.NotEqual(normalized.DedupKey, secondKey);
        if (eventType is not null)
        {
            Assert.Equal(eventType, normalized.Value.EventType);
        }

        var wrongSecret = scheme == SourceSchemes.StandardWebhooks ? "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)) : Secret();
        var wrong = GenericSource.From("acme", new GenericSourceOptions { Scheme = scheme, Secrets = [wrongSecret] });
        var refused = GenericSourceVerifier.Verify(wrong, Body(request), http, Now);
        Assert.False(refused.IsValid);
        Assert.Equal(scheme == SourceSchemes.Token ? GenericReasons.TokenMismatch : GenericReasons.SignatureMismatch, refused.Reason);
    }

    [Theory]
    [InlineData(SourceSchemes.StandardWebhooks)]
    [InlineData(SourceSchemes.HmacSha256)]
    [InlineData(SourceSchemes.Stripe)]
    [InlineData(SourceSchemes.Slack)]
    public void A_timestamped_source_test_event_is_signed_with_the_current_time(string scheme)
    {
        var secret = scheme == SourceSchemes.StandardWebhooks ? "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)) : Secret();
        var source = GenericSource.From("acme", new GenericSourceOptions { Scheme = scheme, Secrets = [secret] });
        var request = SourceTestEvent.Build("acme", scheme, secret, body: null, tokenHeader: null, Now);
        Assert.True(GenericSourceVerifier.Verify(source, Body(request), HttpRequest(request), Now.AddMinutes(4)).IsValid);
        Assert.Equal(GenericReasons.OutsideTolerance, GenericSourceVerifier.Verify(source, Body(request), HttpRequest(request), Now.AddMinutes(6)).Reason);
    }

    [Fact]
    public void A_source_test_event_signs_a_given_body_and_a_token_may_travel_in_a_header()
    {
        var secret = Secret();
        const string body = """{"hello":"wörld"}""";
        var github = GenericSource.From("gh", new GenericSourceOptions { Scheme = "github", Secrets = [secret] });
        var signed = SourceTestEvent.Build("gh", SourceSchemes.GitHub, secret, body, null, Now);
        Assert.Equal(body, signed.Body);
        Assert.True(GenericSourceVerifier.Verify(github, Body(signed), HttpRequest(signed), Now).IsValid);

        var runs = GenericSource.From("runs", new GenericSourceOptions { Scheme = "token", Secrets = [secret], TokenHeader = "X-Run-Token" });
        var byHeader = SourceTestEvent.Build("runs", SourceSchemes.Token, secret, null, "X-Run-Token", Now);
        Assert.Equal("webhooks/runs", byHeader.Path);
        Assert.True(GenericSourceVerifier.Verify(runs, Body(byHeader), HttpRequest(byHeader), Now).IsValid);
        Assert.DoesNotContain("x-run-token", runs.KeptHeaders, StringComparer.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_standard_webhooks_secret_decodes_as_Ingress_decodes_it()
    {
        var key = RandomNumberGenerator.GetBytes(24);
        foreach (var secret in new[] { "whsec_" + Convert.ToBase64String(key), Convert.ToBase64String(key), "whsec_" + Convert.ToBase64String(key).TrimEnd('=') })
        {
            Assert.True(SourceTestEvent.TryDecodeStandardWebhooksSecret(secret, out var ours));
            Assert.True(StandardWebhooksVerifier.TryDecodeSecret(secret, out var ingress));
            Assert.Equal(ingress, ours);
        }

        Assert.False(SourceTestEvent.TryDecodeStandardWebhooksSecret("whsec_!!not base64!!", out _));
        Assert.False(SourceTestEvent.TryDecodeStandardWebhooksSecret("whsec_", out _));
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
