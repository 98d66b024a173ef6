using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Pipeline.Ingress.Providers.Generic;
using static Pipeline.UnitTests.Providers.Generic.GenericTestRequests;

namespace Pipeline.UnitTests.Providers.Generic;

public class TokenVerifierTests
{
    private static IQueryCollection Query(params (string Name, string Value)[] values) =>
        new QueryCollection(values.ToDictionary(v => v.Name, v => new StringValues(v.Value)));

    [Fact]
    public void Token_in_the_query_verifies()
    {
        var token = TextSecret();

        var result = TokenVerifier.Verify(Headers(), Query(("token", token)), [token], tokenHeader: null);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal(SourceSchemes.Token, result.Reason);
    }

    [Fact]
    public void Token_in_the_configured_header_verifies_with_or_without_bearer()
    {
        var token = TextSecret();

        Assert.True(TokenVerifier.Verify(Headers(("X-Pipeline-Token", token)), Query(), [token], "X-Pipeline-Token").IsValid);
        Assert.True(TokenVerifier.Verify(Headers(("Authorization", "Bearer " + token)), Query(), [token], "Authorization").IsValid);
    }

    [Fact]
    public void With_a_header_configured_the_query_does_not_count_and_the_other_way_round()
    {
        var token = TextSecret();

        Assert.Equal(GenericReasons.MissingToken,
            TokenVerifier.Verify(Headers(), Query(("token", token)), [token], "X-Pipeline-Token").Reason);
        Assert.Equal(GenericReasons.MissingToken,
            TokenVerifier.Verify(Headers(("X-Pipeline-Token", token)), Query(), [token], tokenHeader: null).Reason);
    }

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("almost-the-token-but-not")]
    public void Wrong_tokens_are_mismatches_and_an_empty_one_is_missing(string sent)
    {
        var result = TokenVerifier.Verify(Headers(), Query(("token", sent)), [TextSecret()], tokenHeader: null);

        Assert.False(result.IsValid);
        Assert.Equal(sent.Length == 0 ? GenericReasons.MissingToken : GenericReasons.TokenMismatch, result.Reason);
    }

    [Fact]
    public void A_prefix_or_extension_of_the_token_is_a_mismatch()
    {
        var token = TextSecret();

        Assert.Equal(GenericReasons.TokenMismatch, TokenVerifier.Verify(Headers(), Query(("token", token[..^1])), [token], null).Reason);
        Assert.Equal(GenericReasons.TokenMismatch, TokenVerifier.Verify(Headers(), Query(("token", token + "0")), [token], null).Reason);
    }

    [Fact]
    public void Rotation_accepts_any_configured_token()
    {
        var old = TextSecret();
        var current = TextSecret();

        Assert.True(TokenVerifier.Verify(Headers(), Query(("token", old)), [current, old], null).IsValid);
        Assert.True(TokenVerifier.Verify(Headers(), Query(("token", current)), [current, old], null).IsValid);
    }

    [Fact]
    public void No_token_configured_is_404()
    {
        var result = TokenVerifier.Verify(Headers(), Query(("token", "whatever-token-value")), [" "], null);

        Assert.Equal(GenericReasons.NotConfigured, result.Reason);
        Assert.Equal(404, result.Status);
    }
}
