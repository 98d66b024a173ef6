using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Pipeline.Ingress.Providers.NewApi;

namespace Pipeline.UnitTests.Providers.NewApi;

public class NewApiSignatureVerifierTests
{
    // From PROVIDERS.md: new-api's notification signature for a fixed body (the secret is for this test only).
    private const string VectorSecret = "nasecret";
    private const string VectorSignature = "d4cd9f7433a9e573dc1e0c7f2f57f3b7a04ea5fbb448ad83ae05375428260ac0";
    private static readonly byte[] VectorBody =
        Encoding.UTF8.GetBytes("""{"type":"quota_exceed","title":"t","content":"c","timestamp":1700000000}""");

    private static IHeaderDictionary Headers(params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            dictionary[name] = value;
        }

        return dictionary;
    }

    private static string RandomSecret() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));

    private static string Sign(string secret, byte[] body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

    [Fact]
    public void Documented_vector_verifies()
    {
        var result = NewApiSignatureVerifier.Verify(VectorBody, Headers(("X-Webhook-Signature", VectorSignature)), [VectorSecret]);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(NewApiSignatureVerifier.HmacScheme, result.Reason);
    }

    [Fact]
    public void Our_signing_recipe_reproduces_the_vector()
    {
        Assert.Equal(VectorSignature, Sign(VectorSecret, VectorBody));
    }

    [Theory]
    [InlineData("sha256=" + VectorSignature)]
    [InlineData("SHA256=" + VectorSignature)]
    [InlineData(" " + VectorSignature + " ")]
    public void Prefixed_and_padded_forms_verify(string signature)
    {
        var result = NewApiSignatureVerifier.Verify(VectorBody, Headers(("x-webhook-signature", signature)), [VectorSecret]);

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public void Uppercase_hex_verifies()
    {
        var result = NewApiSignatureVerifier.Verify(
            VectorBody, Headers(("X-Webhook-Signature", VectorSignature.ToUpperInvariant())), [VectorSecret]);

        Assert.True(result.IsValid, result.Reason);
    }

    [Fact]
    public void Tampered_body_is_a_mismatch()
    {
        var tampered = Encoding.UTF8.GetBytes("""{"type":"quota_exceed","title":"t","content":"C","timestamp":1700000000}""");

        var result = NewApiSignatureVerifier.Verify(tampered, Headers(("X-Webhook-Signature", VectorSignature)), [VectorSecret]);

        Assert.False(result.IsValid);
        Assert.Equal("signature mismatch", result.Reason);
        Assert.Equal(StatusCodes.Status401Unauthorized, result.Status);
    }

    [Fact]
    public void Trailing_newline_changes_the_signature()
    {
        var result = NewApiSignatureVerifier.Verify([.. VectorBody, (byte)'\n'], Headers(("X-Webhook-Signature", VectorSignature)), [VectorSecret]);

        Assert.False(result.IsValid);
    }

    [Fact]
    public void Wrong_secret_is_a_mismatch()
    {
        var result = NewApiSignatureVerifier.Verify(VectorBody, Headers(("X-Webhook-Signature", VectorSignature)), [RandomSecret()]);

        Assert.False(result.IsValid);
        Assert.Equal("signature mismatch", result.Reason);
    }

    [Fact]
    public void Rotation_any_configured_secret_verifies()
    {
        var oldSecret = RandomSecret();
        var newSecret = RandomSecret();
        var body = Encoding.UTF8.GetBytes("""{"type":"channel_test","title":"x","content":"y","timestamp":1700000001}""");

        Assert.True(NewApiSignatureVerifier.Verify(body, Headers(("X-Webhook-Signature", Sign(oldSecret, body))), [oldSecret, newSecret]).IsValid);
        Assert.True(NewApiSignatureVerifier.Verify(body, Headers(("X-Webhook-Signature", Sign(newSecret, body))), [oldSecret, newSecret]).IsValid);
        Assert.False(NewApiSignatureVerifier.Verify(body, Headers(("X-Webhook-Signature", Sign(oldSecret, body))), [newSecret]).IsValid);
    }

    [Fact]
    public void Missing_header_is_401()
    {
        var result = NewApiSignatureVerifier.Verify(VectorBody, Headers(), [VectorSecret]);

        Assert.False(result.IsValid);
        Assert.Equal("missing signature header", result.Reason);
        Assert.Equal(StatusCodes.Status401Unauthorized, result.Status);
    }

    [Fact]
    public void Empty_signature_header_counts_as_missing()
    {
        var result = NewApiSignatureVerifier.Verify(VectorBody, Headers(("X-Webhook-Signature", "")), [VectorSecret]);

        Assert.Equal("missing signature header", result.Reason);
    }

    [Theory]
    [InlineData("not-hex")]
    [InlineData("d4cd9f74")]
    [InlineData("sha256=")]
    [InlineData("d4cd9f7433a9e573dc1e0c7f2f57f3b7a04ea5fbb448ad83ae05375428260ac0aa")]
    [InlineData("zzcd9f7433a9e573dc1e0c7f2f57f3b7a04ea5fbb448ad83ae05375428260ac0")]
    public void Malformed_signature_is_refused_without_throwing(string signature)
    {
        var result = NewApiSignatureVerifier.Verify(VectorBody, Headers(("X-Webhook-Signature", signature)), [VectorSecret]);

        Assert.False(result.IsValid);
        Assert.Equal("malformed signature", result.Reason);
    }

    [Fact]
    public void Bearer_mode_verifies_with_the_secret_itself()
    {
        var secret = RandomSecret();

        var result = NewApiSignatureVerifier.Verify(VectorBody, Headers(("Authorization", "Bearer " + secret)), ["another-secret-0123456789", secret]);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(NewApiSignatureVerifier.BearerScheme, result.Reason);
    }

    [Fact]
    public void Bearer_scheme_name_is_case_insensitive()
    {
        var secret = RandomSecret();

        Assert.True(NewApiSignatureVerifier.Verify(VectorBody, Headers(("authorization", "bearer " + secret)), [secret]).IsValid);
    }

    [Theory]
    [InlineData("Bearer wrong-token-0123456789abcdef")]
    [InlineData("Bearer ")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public void Wrong_or_other_authorization_is_refused(string authorization)
    {
        var result = NewApiSignatureVerifier.Verify(VectorBody, Headers(("Authorization", authorization)), [RandomSecret()]);

        Assert.False(result.IsValid);
        Assert.Equal(StatusCodes.Status401Unauthorized, result.Status);
    }

    [Fact]
    public void Wrong_bearer_reason_is_a_token_mismatch()
    {
        var result = NewApiSignatureVerifier.Verify(VectorBody, Headers(("Authorization", "Bearer not-the-secret-012345")), [RandomSecret()]);

        Assert.Equal("bearer token mismatch", result.Reason);
    }

    [Fact]
    public void Bearer_prefix_of_the_secret_does_not_verify()
    {
        var secret = RandomSecret();

        Assert.False(NewApiSignatureVerifier.Verify(VectorBody, Headers(("Authorization", "Bearer " + secret[..^1])), [secret]).IsValid);
    }

    [Fact]
    public void Proxy_mode_with_both_headers_verifies_when_either_matches()
    {
        var secret = RandomSecret();
        var headers = Headers(("X-Webhook-Signature", new string('0', 64)), ("Authorization", "Bearer " + secret));

        var result = NewApiSignatureVerifier.Verify(VectorBody, headers, [secret]);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(NewApiSignatureVerifier.BearerScheme, result.Reason);
    }

    [Fact]
    public void No_secret_configured_is_404_provider_not_configured()
    {
        var result = NewApiSignatureVerifier.Verify(VectorBody, Headers(("X-Webhook-Signature", VectorSignature)), []);

        Assert.False(result.IsValid);
        Assert.Equal("provider not configured", result.Reason);
        Assert.Equal(StatusCodes.Status404NotFound, result.Status);
    }

    [Fact]
    public void Empty_entries_in_the_secret_list_never_verify()
    {
        var emptyKeySignature = Sign("", VectorBody);

        var result = NewApiSignatureVerifier.Verify(VectorBody, Headers(("X-Webhook-Signature", emptyKeySignature), ("Authorization", "Bearer ")), ["", ""]);

        Assert.Equal(StatusCodes.Status404NotFound, result.Status);
    }
}
