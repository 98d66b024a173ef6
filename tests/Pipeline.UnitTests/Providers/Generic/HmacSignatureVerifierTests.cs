using System.Globalization;
using Pipeline.Ingress.Providers.Generic;
using static Pipeline.UnitTests.Providers.Generic.GenericTestRequests;

namespace Pipeline.UnitTests.Providers.Generic;

/// <summary>The two schemes that sign the body alone with a hex HMAC: seed 004's hmac-sha256 and GitHub.</summary>
public class HmacSignatureVerifierTests
{
    private static readonly DateTimeOffset Now = new(2025, 11, 8, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(5);

    private const string SeedBody =
        """{"id":"0b5f1c1e-4a59-4d8e-9a51-5b0c7d1e2f30","event_type":"agent.completed","data":{"run":"r1"},"timestamp":1762596000.123,"source":"agent-platform","version":"1.0"}""";

    [Fact]
    public void GitHub_documented_vector_verifies()
    {
        var headers = Headers(("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"));

        var result = GitHubSignatureVerifier.Verify(Utf8("Hello, World!"), headers, ["It's a Secret to Everybody"]);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(SourceSchemes.GitHub, result.Reason);
    }

    [Fact]
    public void GitHub_tampered_body_wrong_secret_and_missing_header_fail()
    {
        var headers = Headers(("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"));

        Assert.Equal(GenericReasons.SignatureMismatch, GitHubSignatureVerifier.Verify(Utf8("Hello, World?"), headers, ["It's a Secret to Everybody"]).Reason);
        Assert.Equal(GenericReasons.SignatureMismatch, GitHubSignatureVerifier.Verify(Utf8("Hello, World!"), headers, [TextSecret()]).Reason);
        Assert.Equal(GenericReasons.MissingSignature, GitHubSignatureVerifier.Verify(Utf8("Hello, World!"), Headers(), ["It's a Secret to Everybody"]).Reason);
        // The legacy SHA-1 header is not accepted in place of the SHA-256 one.
        Assert.Equal(GenericReasons.MissingSignature, GitHubSignatureVerifier.Verify(Utf8("Hello, World!"),
            Headers(("X-Hub-Signature", "sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59")), ["It's a Secret to Everybody"]).Reason);
    }

    [Fact]
    public void GitHub_rotation_accepts_the_second_secret()
    {
        var headers = Headers(("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"));

        Assert.True(GitHubSignatureVerifier.Verify(Utf8("Hello, World!"), headers, [TextSecret(), "It's a Secret to Everybody"]).IsValid);
    }

    [Theory]
    [InlineData("sha256=")]
    [InlineData("")]
    [InlineData("SHA256=")]
    public void Seed_signature_verifies_with_or_without_its_prefix(string prefix)
    {
        var secret = TextSecret();
        var headers = Headers(("X-Webhook-Signature", prefix + HexHmac(secret, SeedBody)), ("X-Webhook-Event", "agent.completed"));

        var result = HmacSha256Verifier.Verify(Utf8(SeedBody), headers, [secret], Now, Tolerance);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(SourceSchemes.HmacSha256, result.Reason);
    }

    [Fact]
    public void Seed_upper_case_hex_verifies()
    {
        var secret = TextSecret();
        var headers = Headers(("X-Webhook-Signature", "sha256=" + HexHmac(secret, SeedBody).ToUpperInvariant()));

        Assert.True(HmacSha256Verifier.Verify(Utf8(SeedBody), headers, [secret], Now, Tolerance).IsValid);
    }

    [Fact]
    public void Seed_tampered_body_and_wrong_secret_are_mismatches()
    {
        var secret = TextSecret();
        var headers = Headers(("X-Webhook-Signature", "sha256=" + HexHmac(secret, SeedBody)));

        Assert.Equal(GenericReasons.SignatureMismatch, HmacSha256Verifier.Verify(Utf8(SeedBody.Replace("r1", "r2")), headers, [secret], Now, Tolerance).Reason);
        Assert.Equal(GenericReasons.SignatureMismatch, HmacSha256Verifier.Verify(Utf8(SeedBody), headers, [TextSecret()], Now, Tolerance).Reason);
    }

    [Theory]
    [InlineData("sha256=abc")]
    [InlineData("sha256=zz5f7433a9e573dc1e0c7f2f57f3b7a04ea5fbb448ad83ae05375428260ac0d4")]
    [InlineData("sha1=d4cd9f7433a9e573dc1e0c7f2f57f3b7a04ea5fbb448ad83ae05375428260ac0")]
    public void Seed_malformed_signature_is_named(string signature)
    {
        var result = HmacSha256Verifier.Verify(Utf8(SeedBody), Headers(("X-Webhook-Signature", signature)), [TextSecret()], Now, Tolerance);

        Assert.Equal(GenericReasons.MalformedSignature, result.Reason);
    }

    [Fact]
    public void Seed_missing_signature_is_named()
    {
        var result = HmacSha256Verifier.Verify(Utf8(SeedBody), Headers(("X-Webhook-Event", "agent.completed")), [TextSecret()], Now, Tolerance);

        Assert.Equal(GenericReasons.MissingSignature, result.Reason);
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(299, true)]
    [InlineData(-299, true)]
    [InlineData(301, false)]
    [InlineData(-301, false)]
    public void Seed_timestamp_header_when_sent_is_held_to_the_tolerance_both_ways(int ageSeconds, bool valid)
    {
        var secret = TextSecret();
        var timestamp = (Now.ToUnixTimeMilliseconds() / 1000m - ageSeconds + 0.25m).ToString(CultureInfo.InvariantCulture);
        var headers = Headers(("X-Webhook-Signature", "sha256=" + HexHmac(secret, SeedBody)), ("X-Webhook-Timestamp", timestamp));

        var result = HmacSha256Verifier.Verify(Utf8(SeedBody), headers, [secret], Now, Tolerance);

        Assert.Equal(valid, result.IsValid);
        if (!valid)
        {
            Assert.Equal(GenericReasons.OutsideTolerance, result.Reason);
        }
    }

    [Fact]
    public void Seed_unparsable_timestamp_is_malformed()
    {
        var secret = TextSecret();
        var headers = Headers(("X-Webhook-Signature", "sha256=" + HexHmac(secret, SeedBody)), ("X-Webhook-Timestamp", "soon"));

        var malformed = HmacSha256Verifier.Verify(Utf8(SeedBody), headers, [secret], Now, Tolerance);
        Assert.Equal(GenericReasons.MalformedTimestamp, malformed.Reason);
        Assert.Equal(400, malformed.Status);
    }

    [Fact]
    public void No_secret_means_not_configured_with_404()
    {
        var headers = Headers(("X-Webhook-Signature", "sha256=" + HexHmac("anything-0123456789", SeedBody)));

        var result = HmacSha256Verifier.Verify(Utf8(SeedBody), headers, [], Now, Tolerance);

        Assert.Equal(GenericReasons.NotConfigured, result.Reason);
        Assert.Equal(404, result.Status);
    }
}
