using System.Net;
using Pipeline.Consumers.Deliveries.Security;

namespace Pipeline.UnitTests.Deliveries;

public class EndpointUrlPolicyTests
{
    [Theory]
    [InlineData(null, "url is required.")]
    [InlineData("not a url", "url must be an absolute http:// or https:// URL.")]
    [InlineData("ftp://example.test/x", "url must be an absolute http:// or https:// URL.")]
    [InlineData("http://example.test/hook", "url must use https (set Deliveries:AllowHttp=true to allow plain http).")]
    [InlineData("https://user:pass@example.test/hook", "url must not contain credentials; send them as an endpoint header instead.")]
    [InlineData("https://example.test/hook#part", "url must not have a #fragment.")]
    public void Malformed_urls_are_refused_with_the_reason(string? url, string error) =>
        Assert.Equal(error, EndpointUrlPolicy.CheckForm(url, allowHttp: false, out _));

    [Fact]
    public void Plain_http_is_accepted_only_when_allowed()
    {
        Assert.Null(EndpointUrlPolicy.CheckForm("http://example.test/hook", allowHttp: true, out var uri));
        Assert.Equal("example.test", uri!.Host);
        Assert.Null(EndpointUrlPolicy.CheckForm("https://example.test/hook?x=1", allowHttp: false, out _));
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook", "loopback")]
    [InlineData("http://[::1]:8080/hook", "loopback")]
    [InlineData("http://localhost:8080/hook", "loopback")]
    [InlineData("http://api.localhost/hook", "loopback")]
    [InlineData("http://10.0.0.1/hook", "private")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "cloud metadata")]
    public async Task Literal_and_localhost_hosts_are_judged_without_asking_dns(string url, string kind)
    {
        var error = await EndpointUrlPolicy.CheckAddressesAsync(new Uri(url), allowPrivateNetworks: false, NoDns, CancellationToken.None);

        Assert.NotNull(error);
        Assert.Contains($"a {kind} address", error);
    }

    [Fact]
    public async Task A_name_is_refused_when_any_of_its_addresses_is_refused()
    {
        Task<IPAddress[]> Resolve(string host, CancellationToken _) =>
            Task.FromResult(host == "mixed.example.test" ? new[] { IPAddress.Parse("93.184.215.14"), IPAddress.Parse("10.1.2.3") } : [IPAddress.Parse("93.184.215.14")]);

        var mixed = await EndpointUrlPolicy.CheckAddressesAsync(new Uri("https://mixed.example.test/"), false, Resolve, CancellationToken.None);
        var publicOnly = await EndpointUrlPolicy.CheckAddressesAsync(new Uri("https://public.example.test/"), false, Resolve, CancellationToken.None);
        var allowed = await EndpointUrlPolicy.CheckAddressesAsync(new Uri("https://mixed.example.test/"), true, Resolve, CancellationToken.None);

        Assert.Equal("url host mixed.example.test resolves to a private address (10.1.2.3), refused unless Deliveries:AllowPrivateNetworks=true.", mixed);
        Assert.Null(publicOnly);
        Assert.Null(allowed);
    }

    [Fact]
    public async Task A_name_that_does_not_resolve_is_refused()
    {
        var error = await EndpointUrlPolicy.CheckAddressesAsync(new Uri("https://nowhere.example.test/"), false,
            (_, _) => Task.FromException<IPAddress[]>(new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.HostNotFound)),
            CancellationToken.None);

        Assert.Equal("url host nowhere.example.test does not resolve.", error);
    }

    private static Task<IPAddress[]> NoDns(string host, CancellationToken _) =>
        throw new InvalidOperationException($"DNS asked for {host}");
}
