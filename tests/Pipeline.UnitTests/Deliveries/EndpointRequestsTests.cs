using Pipeline.Consumers.Deliveries.Api;

namespace Pipeline.UnitTests.Deliveries;

public class EndpointRequestsTests
{
    private static CreateEndpointRequest Valid() =>
        new("https://example.test/hook", ["sandbox.*"], "ops", new() { ["Authorization"] = "Bearer x" }, "hmac-sha256", 10);

    [Fact]
    public void A_complete_request_is_valid()
    {
        Assert.Empty(EndpointRequests.Validate(Valid(), allowHttp: false, out var url));
        Assert.Equal("https://example.test/hook", url!.AbsoluteUri);
    }

    [Theory]
    [InlineData("webhook-signature")]
    [InlineData("X-Webhook-Signature")]
    [InlineData("content-type")]
    [InlineData("Host")]
    public void Headers_owned_by_the_sender_cannot_be_set(string name)
    {
        var errors = EndpointRequests.Validate(Valid() with { Headers = new() { [name] = "x" } }, false, out _);

        Assert.Equal([$"header {name} is set by the sender and cannot be configured."], errors);
    }

    [Fact]
    public void Header_values_cannot_break_lines_and_names_must_be_tokens()
    {
        Assert.Single(EndpointRequests.Validate(Valid() with { Headers = new() { ["X-A"] = "a\r\nX-Injected: 1" } }, false, out _));
        Assert.Single(EndpointRequests.Validate(Valid() with { Headers = new() { ["X A"] = "a" } }, false, out _));
    }

    [Fact]
    public void Headers_fit_their_column_and_a_long_name_is_not_quoted_whole()
    {
        var many = Enumerable.Range(0, EndpointRequests.MaxHeaders).ToDictionary(i => $"X-Header-{i}", _ => new string('v', EndpointRequests.MaxHeaderValueLength));
        var longName = new string('n', 5000);

        Assert.Equal(["headers may take at most 8000 characters together (as JSON)."], EndpointRequests.Validate(Valid() with { Headers = many }, false, out _));
        var error = Assert.Single(EndpointRequests.Validate(Valid() with { Headers = new() { [longName] = "x" } }, false, out _));
        Assert.True(error.Length < 200, error);
        Assert.Empty(EndpointRequests.Validate(Valid() with { Headers = many.Take(7).ToDictionary() }, false, out _));
    }

    [Fact]
    public void Every_problem_is_listed()
    {
        var errors = EndpointRequests.Validate(new CreateEndpointRequest("http://example.test", ["nope"], null, null, "md5", 0), false, out _);

        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("url must use https", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Unknown event type(s): 'nope'", StringComparison.Ordinal));
        Assert.Contains("scheme must be one of standard-webhooks, hmac-sha256.", errors);
        Assert.Contains("rateLimitPerSecond must be between 1 and 10000.", errors);
    }

    [Fact]
    public void A_patch_checks_only_what_it_changes_and_may_remove_the_rate_limit()
    {
        Assert.Empty(EndpointRequests.Validate(new PatchEndpointRequest(null, null, "new description", null, null, 0), false, out var url));
        Assert.Null(url);
        Assert.Single(EndpointRequests.Validate(new PatchEndpointRequest(null, [], null, null, null, null), false, out _));
    }
}
