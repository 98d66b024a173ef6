using Microsoft.AspNetCore.Http;
using Pipeline.Ingress.Providers;
using Pipeline.Ingress.Providers.Generic;
using static Pipeline.UnitTests.Providers.Generic.GenericTestRequests;

namespace Pipeline.UnitTests.Providers.Generic;

public class StandardWebhooksVerifierTests
{
    // The official vector from PROVIDERS.md (Standard Webhooks' own test suite).
    private const string VectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string VectorId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const string VectorTimestamp = "1614265330";
    private const string VectorBody = """{"test": 2432232314}""";
    private const string VectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    private static readonly DateTimeOffset VectorTime = DateTimeOffset.FromUnixTimeSeconds(1614265330);
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    private static IHeaderDictionary VectorHeaders(string signature = VectorSignature, string prefix = "webhook") =>
        Headers(($"{prefix}-id", VectorId), ($"{prefix}-timestamp", VectorTimestamp), ($"{prefix}-signature", signature));

    private static VerificationResult Verify(
        string body, IHeaderDictionary headers, IReadOnlyList<string>? secrets = null, DateTimeOffset? now = null) =>
        StandardWebhooksVerifier.Verify(Utf8(body), headers, secrets ?? [VectorSecret], now ?? VectorTime, Tolerance);

    [Fact]
    public void Official_vector_verifies_at_its_own_time()
    {
        var result = Verify(VectorBody, VectorHeaders());

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(SourceSchemes.StandardWebhooks, result.Reason);
    }

    [Fact]
    public void Svix_headers_carry_the_same_scheme()
    {
        var result = Verify(VectorBody, VectorHeaders(prefix: "svix"));

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public void Tampered_body_is_a_mismatch()
    {
        var result = Verify("""{"test": 2432232315}""", VectorHeaders());

        Assert.False(result.IsValid);
        Assert.Equal(GenericReasons.SignatureMismatch, result.Reason);
        Assert.Equal(401, result.Status);
    }

    [Fact]
    public void Tampered_id_or_timestamp_is_a_mismatch()
    {
        var otherId = Headers(("webhook-id", VectorId + "x"), ("webhook-timestamp", VectorTimestamp), ("webhook-signature", VectorSignature));
        var otherTime = Headers(("webhook-id", VectorId), ("webhook-timestamp", "1614265331"), ("webhook-signature", VectorSignature));

        Assert.Equal(GenericReasons.SignatureMismatch, Verify(VectorBody, otherId).Reason);
        Assert.Equal(GenericReasons.SignatureMismatch, Verify(VectorBody, otherTime, now: VectorTime.AddSeconds(1)).Reason);
    }

    [Fact]
    public void Wrong_key_is_a_mismatch()
    {
        var result = Verify(VectorBody, VectorHeaders(), [WhsecSecret()]);

        Assert.Equal(GenericReasons.SignatureMismatch, result.Reason);
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(301)]
    [InlineData(-3600)]
    [InlineData(86400)]
    public void A_genuine_signature_outside_the_tolerance_either_way_is_refused(int offsetSeconds)
    {
        // now - offset: a negative offset puts the timestamp in the future.
        var result = Verify(VectorBody, VectorHeaders(), now: VectorTime.AddSeconds(offsetSeconds));

        Assert.False(result.IsValid);
        Assert.Equal(GenericReasons.OutsideTolerance, result.Reason);
        Assert.Equal(401, result.Status);
    }

    [Theory]
    [InlineData(-300)]
    [InlineData(300)]
    public void The_tolerance_edges_are_inside(int offsetSeconds) =>
        Assert.True(Verify(VectorBody, VectorHeaders(), now: VectorTime.AddSeconds(offsetSeconds)).IsValid);

    [Fact]
    public void Any_v1_entry_may_match_and_other_versions_are_ignored()
    {
        var wrong = StandardWebhooksSignature(WhsecSecret(), VectorId, 1614265330, VectorBody);
        var headers = VectorHeaders($"v1a,bm90LWFuLWVkMjU1MTktc2ln {wrong} v2,abc {VectorSignature}");

        var result = Verify(VectorBody, headers);

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public void Only_the_second_of_two_v1_signatures_matching_passes()
    {
        var wrong = StandardWebhooksSignature(WhsecSecret(), VectorId, 1614265330, VectorBody);

        Assert.True(Verify(VectorBody, VectorHeaders($"{wrong} {VectorSignature}")).IsValid);
        Assert.Equal(GenericReasons.SignatureMismatch, Verify(VectorBody, VectorHeaders($"{wrong} {wrong}")).Reason);
    }

    [Fact]
    public void Only_other_versions_is_unsupported()
    {
        var result = Verify(VectorBody, VectorHeaders("v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));

        Assert.Equal(GenericReasons.UnsupportedVersion, result.Reason);
    }

    [Theory]
    [InlineData("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", GenericReasons.MalformedSignature)]
    [InlineData("v1,", GenericReasons.MalformedSignature)]
    [InlineData("v1,not*base64", GenericReasons.SignatureMismatch)]
    [InlineData("v1,AAAA", GenericReasons.SignatureMismatch)]
    public void Malformed_signature_entries_never_verify(string signature, string reason)
    {
        var result = Verify(VectorBody, VectorHeaders(signature));

        Assert.False(result.IsValid);
        Assert.Equal(reason, result.Reason);
    }

    [Theory]
    [InlineData("webhook-id", GenericReasons.MissingId)]
    [InlineData("webhook-timestamp", GenericReasons.MissingTimestamp)]
    [InlineData("webhook-signature", GenericReasons.MissingSignature)]
    public void Each_missing_header_is_named(string missing, string reason)
    {
        var headers = VectorHeaders();
        headers.Remove(missing);

        var result = Verify(VectorBody, headers);

        Assert.False(result.IsValid);
        Assert.Equal(reason, result.Reason);
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("1614265330.5")]
    [InlineData("99999999999999999999")]
    public void A_timestamp_that_is_not_unix_seconds_is_malformed(string timestamp)
    {
        var headers = Headers(("webhook-id", VectorId), ("webhook-timestamp", timestamp), ("webhook-signature", VectorSignature));

        var malformed = Verify(VectorBody, headers);
        Assert.Equal(GenericReasons.MalformedTimestamp, malformed.Reason);
        Assert.Equal(400, malformed.Status); // seed 004: a timestamp that does not parse is a bad request, not a bad signature
    }

    [Fact]
    public void Rotation_any_configured_secret_verifies()
    {
        var result = Verify(VectorBody, VectorHeaders(), [WhsecSecret(), VectorSecret, WhsecSecret()]);

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public void No_usable_secret_means_not_configured()
    {
        var result = Verify(VectorBody, VectorHeaders(), ["", "   "]);

        Assert.Equal(GenericReasons.NotConfigured, result.Reason);
        Assert.Equal(404, result.Status);
    }

    [Theory]
    [InlineData(VectorSecret)]
    [InlineData("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    [InlineData("  whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw  ")]
    public void The_key_is_the_base64_after_whsec_and_a_bare_base64_secret_is_decoded_too(string secret)
    {
        Assert.True(StandardWebhooksVerifier.TryDecodeSecret(secret, out var key));
        Assert.Equal(Convert.FromBase64String("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), key);
        Assert.True(Verify(VectorBody, VectorHeaders(), [secret]).IsValid);
    }

    [Fact]
    public void Unpadded_base64_secrets_decode()
    {
        var raw = new byte[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17 };
        var unpadded = "whsec_" + Convert.ToBase64String(raw).TrimEnd('=');

        Assert.True(StandardWebhooksVerifier.TryDecodeSecret(unpadded, out var key));
        Assert.Equal(raw, key);
    }

    [Theory]
    [InlineData("whsec_")]
    [InlineData("whsec_not*base64")]
    [InlineData("a-plain-text-password-with-dashes")]
    public void Secrets_that_are_not_base64_do_not_decode(string secret) =>
        Assert.False(StandardWebhooksVerifier.TryDecodeSecret(secret, out _));

    [Fact]
    public void A_fresh_signature_made_here_verifies_against_a_random_secret()
    {
        var secret = WhsecSecret();
        var now = DateTimeOffset.UtcNow;
        var body = """{"type":"invoice.paid","data":{"amount":12,"note":"é ✓"}}""";
        var headers = Headers(("webhook-id", "msg_1"), ("webhook-timestamp", Unix(now).ToString()),
            ("webhook-signature", StandardWebhooksSignature(secret, "msg_1", Unix(now), body)));

        Assert.True(Verify(body, headers, [secret], now).IsValid);
        Assert.Equal(GenericReasons.SignatureMismatch, Verify(body + " ", headers, [secret], now).Reason);
    }
}
