using Pipeline.Ingress.Providers;
using Pipeline.Ingress.Providers.Generic;
using static Pipeline.UnitTests.Providers.Generic.GenericTestRequests;

namespace Pipeline.UnitTests.Providers.Generic;

public class StripeAndSlackVerifierTests
{
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);
    private static readonly DateTimeOffset Now = new(2025, 11, 8, 10, 0, 0, TimeSpan.Zero);

    private const string StripeBody = """{"id":"evt_1QxYz2AbCdEf","object":"event","type":"invoice.paid","data":{"object":{"id":"in_1"}}}""";

    // Slack's own documented example (api.slack.com, "Verifying requests from Slack"): a slash command form post.
    private const string SlackDocSecret = "8f742231b10e8888abcd99yyyzzz85a5";
    private const string SlackDocTimestamp = "1531420618";
    private const string SlackDocSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    private const string SlackDocBody =
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar" +
        "&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com" +
        "%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";

    private static string StripeHeader(string secret, long t, string body) => $"t={t},v1={HexHmac(secret, $"{t}.{body}")}";

    private static VerificationResult Stripe(string body, string header, IReadOnlyList<string> secrets, DateTimeOffset? now = null) =>
        StripeSignatureVerifier.Verify(Utf8(body), Headers(("Stripe-Signature", header)), secrets, now ?? Now, Tolerance);

    [Fact]
    public void Stripe_signature_keyed_with_the_whole_whsec_string_verifies()
    {
        var secret = "whsec_" + TextSecret();

        var result = Stripe(StripeBody, StripeHeader(secret, Unix(Now), StripeBody), [secret]);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(SourceSchemes.Stripe, result.Reason);
    }

    [Fact]
    public void Stripe_several_v1_where_only_the_second_matches_and_v0_is_ignored()
    {
        var secret = "whsec_" + TextSecret();
        var t = Unix(Now);
        var good = HexHmac(secret, $"{t}.{StripeBody}");
        var bad = HexHmac(TextSecret(), $"{t}.{StripeBody}");

        Assert.True(Stripe(StripeBody, $"t={t},v1={bad},v1={good},v0={bad}", [secret]).IsValid);
        Assert.True(Stripe(StripeBody, $"t={t}, v1={bad}, v1={good}", [secret]).IsValid);
        Assert.Equal(GenericReasons.SignatureMismatch, Stripe(StripeBody, $"t={t},v1={bad},v0={good}", [secret]).Reason);
    }

    [Fact]
    public void Stripe_tampered_body_timestamp_or_key_are_mismatches()
    {
        var secret = "whsec_" + TextSecret();
        var t = Unix(Now);
        var header = StripeHeader(secret, t, StripeBody);

        Assert.Equal(GenericReasons.SignatureMismatch, Stripe(StripeBody.Replace("paid", "void"), header, [secret]).Reason);
        Assert.Equal(GenericReasons.SignatureMismatch, Stripe(StripeBody, header.Replace($"t={t}", $"t={t + 1}"), [secret]).Reason);
        Assert.Equal(GenericReasons.SignatureMismatch, Stripe(StripeBody, header, ["whsec_" + TextSecret()]).Reason);
    }

    [Theory]
    [InlineData(301)]
    [InlineData(-301)]
    public void Stripe_timestamp_outside_the_tolerance_either_way(int ageSeconds)
    {
        var secret = "whsec_" + TextSecret();
        var t = Unix(Now) - ageSeconds;

        Assert.Equal(GenericReasons.OutsideTolerance, Stripe(StripeBody, StripeHeader(secret, t, StripeBody), [secret]).Reason);
    }

    [Theory]
    [InlineData("v1=abc")]
    [InlineData("t=1762596000")]
    [InlineData("garbage")]
    public void Stripe_header_without_a_timestamp_or_a_v1_is_malformed(string header) =>
        Assert.Equal(GenericReasons.MalformedSignature, Stripe(StripeBody, header, [TextSecret()]).Reason);

    [Fact]
    public void Stripe_missing_header_and_rotation()
    {
        var old = "whsec_" + TextSecret();
        var current = "whsec_" + TextSecret();

        Assert.Equal(GenericReasons.MissingSignature,
            StripeSignatureVerifier.Verify(Utf8(StripeBody), Headers(), [old], Now, Tolerance).Reason);
        Assert.True(Stripe(StripeBody, StripeHeader(old, Unix(Now), StripeBody), [current, old]).IsValid);
    }

    private static VerificationResult Slack(string body, string signature, string timestamp, IReadOnlyList<string> secrets, DateTimeOffset now) =>
        SlackSignatureVerifier.Verify(Utf8(body), Headers(("X-Slack-Signature", signature), ("X-Slack-Request-Timestamp", timestamp)),
            secrets, now, Tolerance);

    [Fact]
    public void Slack_documented_example_verifies_at_its_own_time()
    {
        var result = Slack(SlackDocBody, SlackDocSignature, SlackDocTimestamp, [SlackDocSecret], DateTimeOffset.FromUnixTimeSeconds(1531420618));

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(SourceSchemes.Slack, result.Reason);
    }

    [Fact]
    public void Slack_tampered_body_and_wrong_secret_are_mismatches()
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(1531420618);

        Assert.Equal(GenericReasons.SignatureMismatch, Slack(SlackDocBody + "&x=1", SlackDocSignature, SlackDocTimestamp, [SlackDocSecret], at).Reason);
        Assert.Equal(GenericReasons.SignatureMismatch, Slack(SlackDocBody, SlackDocSignature, SlackDocTimestamp, [TextSecret()], at).Reason);
    }

    [Theory]
    [InlineData(301)]
    [InlineData(-301)]
    public void Slack_documented_example_is_refused_outside_the_tolerance_either_way(int offsetSeconds)
    {
        var result = Slack(SlackDocBody, SlackDocSignature, SlackDocTimestamp, [SlackDocSecret],
            DateTimeOffset.FromUnixTimeSeconds(1531420618 + offsetSeconds));

        Assert.Equal(GenericReasons.OutsideTolerance, result.Reason);
    }

    [Fact]
    public void Slack_missing_and_malformed_headers_are_named()
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(1531420618);
        var body = Utf8(SlackDocBody);

        Assert.Equal(GenericReasons.MissingSignature, SlackSignatureVerifier.Verify(body,
            Headers(("X-Slack-Request-Timestamp", SlackDocTimestamp)), [SlackDocSecret], at, Tolerance).Reason);
        Assert.Equal(GenericReasons.MissingTimestamp, SlackSignatureVerifier.Verify(body,
            Headers(("X-Slack-Signature", SlackDocSignature)), [SlackDocSecret], at, Tolerance).Reason);
        Assert.Equal(GenericReasons.MalformedSignature, Slack(SlackDocBody, SlackDocSignature[3..], SlackDocTimestamp, [SlackDocSecret], at).Reason);
        var malformed = Slack(SlackDocBody, SlackDocSignature, "later", [SlackDocSecret], at);
        Assert.Equal(GenericReasons.MalformedTimestamp, malformed.Reason);
        Assert.Equal(400, malformed.Status);
    }

    [Fact]
    public void Slack_rotation_accepts_either_secret()
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(1531420618);

        Assert.True(Slack(SlackDocBody, SlackDocSignature, SlackDocTimestamp, [TextSecret(), SlackDocSecret], at).IsValid);
    }
}
