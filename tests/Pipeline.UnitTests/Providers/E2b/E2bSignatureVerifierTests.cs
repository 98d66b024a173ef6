using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Pipeline.Ingress.Providers.E2b;

namespace Pipeline.UnitTests.Providers.E2b;

public class E2bSignatureVerifierTests
{
    // From PROVIDERS.md: a test secret and the signature E2B's scheme gives the vector body.
    private const string VectorSecret = "test-signing-secret-0123456789abcdef";
    private const string VectorSignature = "hNOQ8kGBF+4VdH9y9xJEznugaOyKPO0O/v72iAFF/QY";
    private const string VectorSignatureUrlSafe = "hNOQ8kGBF-4VdH9y9xJEznugaOyKPO0O_v72iAFF_QY";

    private static readonly byte[] SeedBody = Encoding.UTF8.GetBytes(
        """{"eventCategory":"lifecycle","eventLabel":"kill","sandboxId":"test-production-123","sandboxTeamId":"team-abc","timestamp":"2025-11-08T10:00:00.000Z"}""");

    private static byte[] VectorBody() =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Vectors", "e2b-v2-killed.json"));

    private static IHeaderDictionary Headers(params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            dictionary[name] = value;
        }

        return dictionary;
    }

    private static string RandomSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    private static string SeedSignature(string secret, byte[] body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    [Fact]
    public void Vector_file_is_the_documented_591_bytes_without_trailing_newline()
    {
        var body = VectorBody();
        Assert.Equal(591, body.Length);
        Assert.Equal((byte)'}', body[^1]);
    }

    [Theory]
    [InlineData(VectorSignature)]
    [InlineData(VectorSignatureUrlSafe)]
    [InlineData(VectorSignature + "=")]
    [InlineData(VectorSignatureUrlSafe + "=")]
    public void Documented_vector_verifies_in_standard_url_safe_and_padded_forms(string signature)
    {
        var result = E2bSignatureVerifier.Verify(
            VectorBody(), Headers(("e2b-signature", signature), ("e2b-signature-version", "v1")), [VectorSecret]);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal("e2b-sha256", result.Reason);
    }

    [Fact]
    public void Version_header_is_optional()
    {
        var result = E2bSignatureVerifier.Verify(VectorBody(), Headers(("e2b-signature", VectorSignature)), [VectorSecret]);

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public void Header_names_are_case_insensitive()
    {
        var result = E2bSignatureVerifier.Verify(VectorBody(), Headers(("E2B-Signature", VectorSignature)), [VectorSecret]);

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public void Rotation_wrong_secret_first_right_second_verifies()
    {
        var result = E2bSignatureVerifier.Verify(
            VectorBody(), Headers(("e2b-signature", VectorSignature)), ["an-old-secret-no-longer-used", VectorSecret]);

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public void Rotation_works_for_the_seed_scheme_too()
    {
        var secret = RandomSecret();
        var result = E2bSignatureVerifier.Verify(
            SeedBody, Headers(("X-E2B-Signature", SeedSignature(secret, SeedBody))), [RandomSecret(), secret]);

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public void Empty_secrets_are_ignored_rather_than_matching_an_unkeyed_digest()
    {
        // With an empty secret the E2B scheme would be SHA-256(body): anyone could compute it.
        var body = VectorBody();
        var unkeyed = Convert.ToBase64String(SHA256.HashData(body)).TrimEnd('=');

        Assert.Equal("provider not configured", E2bSignatureVerifier.Verify(body, Headers(("e2b-signature", unkeyed)), [""]).Reason);
        Assert.Equal("signature mismatch", E2bSignatureVerifier.Verify(body, Headers(("e2b-signature", unkeyed)), ["", VectorSecret]).Reason);
    }

    [Fact]
    public void No_secret_configured_is_404_provider_not_configured()
    {
        var result = E2bSignatureVerifier.Verify(VectorBody(), Headers(("e2b-signature", VectorSignature)), []);

        Assert.False(result.IsValid);
        Assert.Equal(("provider not configured", 404), (result.Reason, result.Status));
    }

    [Fact]
    public void One_tampered_byte_is_a_signature_mismatch()
    {
        var body = VectorBody();
        body[body.Length / 2] ^= 0x01;

        var result = E2bSignatureVerifier.Verify(body, Headers(("e2b-signature", VectorSignature)), [VectorSecret]);

        Assert.False(result.IsValid);
        Assert.Equal("signature mismatch", result.Reason);
    }

    [Fact]
    public void Wrong_secret_is_a_signature_mismatch()
    {
        var result = E2bSignatureVerifier.Verify(VectorBody(), Headers(("e2b-signature", VectorSignature)), ["not-the-secret"]);

        Assert.False(result.IsValid);
        Assert.Equal("signature mismatch", result.Reason);
    }

    [Fact]
    public void Missing_signature_header()
    {
        var result = E2bSignatureVerifier.Verify(
            VectorBody(), Headers(("e2b-signature-version", "v1"), ("e2b-webhook-id", "wh_1")), [VectorSecret]);

        Assert.False(result.IsValid);
        Assert.Equal("missing signature header", result.Reason);
    }

    [Theory]
    [InlineData("e2b-signature", "not base64 at all!")]
    [InlineData("e2b-signature", "")]
    [InlineData("e2b-signature", "hNOQ8kGBF+4VdH9y9xJEznugaOyKPO0O")] // decodes, but is not a SHA-256 digest
    [InlineData("e2b-signature", "hNOQ8kGBF+4VdH9y9xJEznugaOyKPO0O/v72iAFF/QYA")] // 44 chars, 33 bytes
    [InlineData("e2b-signature", "hNOQ8kGBF+4VdH9y9xJEznugaOy=KPO0O/v72iAFF/QY")] // padding in the middle
    [InlineData("X-E2B-Signature", "zz")]
    [InlineData("X-E2B-Signature", "")]
    [InlineData("X-E2B-Signature", "sha256=")]
    [InlineData("X-E2B-Signature", "g000000000000000000000000000000000000000000000000000000000000000")]
    [InlineData("X-E2B-Signature", "00000000000000000000000000000000000000000000000000000000000000")] // 62 hex chars
    public void Undecodable_signature_is_malformed_not_an_exception(string header, string value)
    {
        var result = E2bSignatureVerifier.Verify(VectorBody(), Headers((header, value)), [VectorSecret]);

        Assert.False(result.IsValid);
        Assert.Equal("malformed signature", result.Reason);
    }

    [Theory]
    [InlineData("v2")]
    [InlineData("v0")]
    [InlineData("")]
    public void Unsupported_signature_version_is_rejected(string version)
    {
        var result = E2bSignatureVerifier.Verify(
            VectorBody(), Headers(("e2b-signature", VectorSignature), ("e2b-signature-version", version)), [VectorSecret]);

        Assert.False(result.IsValid);
        Assert.Equal("unsupported e2b-signature-version", result.Reason);
    }

    [Fact]
    public void Seed_format_lowercase_hex_hmac_verifies()
    {
        var secret = RandomSecret();

        var result = E2bSignatureVerifier.Verify(SeedBody, Headers(("X-E2B-Signature", SeedSignature(secret, SeedBody))), [secret]);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal("e2b-hmac-sha256", result.Reason);
    }

    [Fact]
    public void Seed_format_uppercase_hex_hmac_verifies()
    {
        var secret = RandomSecret();
        var signature = SeedSignature(secret, SeedBody).ToUpperInvariant();

        var result = E2bSignatureVerifier.Verify(SeedBody, Headers(("X-E2B-Signature", signature)), [secret]);

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public void Seed_format_with_sha256_prefix_verifies()
    {
        var secret = RandomSecret();

        var result = E2bSignatureVerifier.Verify(
            SeedBody, Headers(("X-E2B-Signature", "sha256=" + SeedSignature(secret, SeedBody))), [secret]);

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public void Seed_format_tampered_body_is_a_signature_mismatch()
    {
        var secret = RandomSecret();
        var signature = SeedSignature(secret, SeedBody);
        var tampered = (byte[])SeedBody.Clone();
        tampered[^3] ^= 0x01;

        var result = E2bSignatureVerifier.Verify(tampered, Headers(("X-E2B-Signature", signature)), [secret]);

        Assert.False(result.IsValid);
        Assert.Equal("signature mismatch", result.Reason);
    }

    [Fact]
    public void Seed_hmac_placed_in_the_e2b_header_fails()
    {
        var secret = RandomSecret();
        var hmacHex = SeedSignature(secret, SeedBody);
        var hmacBase64 = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), SeedBody)).TrimEnd('=');

        Assert.False(E2bSignatureVerifier.Verify(SeedBody, Headers(("e2b-signature", hmacHex)), [secret]).IsValid);
        Assert.Equal(
            "signature mismatch",
            E2bSignatureVerifier.Verify(SeedBody, Headers(("e2b-signature", hmacBase64)), [secret]).Reason);
    }

    [Fact]
    public void E2b_digest_placed_in_the_seed_header_fails()
    {
        var body = VectorBody();
        var digestHex = Convert.ToHexStringLower(Convert.FromBase64String(VectorSignature + "="));

        Assert.Equal(
            "malformed signature",
            E2bSignatureVerifier.Verify(body, Headers(("X-E2B-Signature", VectorSignature)), [VectorSecret]).Reason);
        Assert.Equal(
            "signature mismatch",
            E2bSignatureVerifier.Verify(body, Headers(("X-E2B-Signature", digestHex)), [VectorSecret]).Reason);
    }

    [Fact]
    public void E2b_header_takes_precedence_when_both_are_present()
    {
        var result = E2bSignatureVerifier.Verify(
            VectorBody(), Headers(("e2b-signature", VectorSignature), ("X-E2B-Signature", "garbage")), [VectorSecret]);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal("e2b-sha256", result.Reason);
    }

    [Fact]
    public void Long_secrets_beyond_the_stack_buffer_still_verify()
    {
        var secret = new string('s', 1000) + RandomSecret();
        var signature = SeedSignature(secret, SeedBody);

        var result = E2bSignatureVerifier.Verify(SeedBody, Headers(("X-E2B-Signature", signature)), ["short", secret]);

        Assert.True(result.IsValid, result.Reason);
    }
}
