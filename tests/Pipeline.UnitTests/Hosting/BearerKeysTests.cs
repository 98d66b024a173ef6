using Microsoft.AspNetCore.Http;
using Pipeline.Hosting.Access;

namespace Pipeline.UnitTests.Hosting;

public sealed class BearerKeysTests
{
    private const string Key = "read-key-for-this-test-0123456789";

    [Theory]
    [InlineData("Bearer " + Key, Key)]
    [InlineData("bearer   " + Key + " ", Key)]
    [InlineData("BEARER " + Key, Key)]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("Bearer ", null)]
    [InlineData("Bearer    ", null)]
    [InlineData("Basic " + Key, null)]
    [InlineData(Key, null)]
    public void The_key_is_read_from_a_bearer_authorization_header_only(string? authorization, string? expected)
    {
        var context = new DefaultHttpContext();
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }

        Assert.Equal(expected, BearerKeys.From(context.Request));
    }

    [Fact]
    public void Any_configured_key_matches_for_rotation()
    {
        Assert.True(BearerKeys.Matches(Key, [Key]));
        Assert.True(BearerKeys.Matches(Key, ["the-previous-read-key-0123", Key]));
        Assert.True(BearerKeys.Matches(Key, [Key, "the-next-read-key-0123456"]));
    }

    [Theory]
    [InlineData("read-key-for-this-test-012345678")] // one character short
    [InlineData("read-key-for-this-test-01234567890")]
    [InlineData("READ-KEY-FOR-THIS-TEST-0123456789")]
    [InlineData("a")]
    [InlineData("")]
    public void Anything_else_does_not_match(string presented)
    {
        Assert.False(BearerKeys.Matches(presented, [Key]));
    }

    [Fact]
    public void No_configured_key_matches_nothing_not_even_an_empty_one()
    {
        Assert.False(BearerKeys.Matches(Key, []));
        Assert.False(BearerKeys.Matches("", [null, "", Key]));
    }
}
