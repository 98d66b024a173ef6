using Pipeline.Hosting.Management;

namespace Pipeline.UnitTests.Hosting;

public sealed class ListenerAddressesTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5081", "9081", "http://127.0.0.1:9081")]
    [InlineData("http://+:8080", "8081", "http://+:8081")]
    [InlineData("http://localhost:5080", "9080", "http://localhost:9080")]
    [InlineData("http://[::1]:5081", "9081", "http://[::1]:9081")]
    [InlineData(" http://127.0.0.1:5081 ; http://[::1]:5081 ", "9081", "http://127.0.0.1:9081;http://[::1]:9081")]
    [InlineData("http://127.0.0.1:5081;http://127.0.0.1:5091", "9081", "http://127.0.0.1:9081")]
    [InlineData(null, "9081", "http://localhost:9081")]
    public void The_management_port_listens_on_the_same_interfaces_as_the_service(string? urls, string port, string expected)
    {
        var addresses = ListenerAddresses.Resolve(urls, port, null);

        Assert.Equal(expected.Split(';'), addresses.ManagementUrls);
        Assert.Equal([int.Parse(port, System.Globalization.CultureInfo.InvariantCulture)], addresses.ManagementPorts);
        Assert.Equal(urls is null ? ["http://localhost:5000"] : urls.Split(';', StringSplitOptions.TrimEntries), addresses.PublicUrls);
    }

    [Fact]
    public void Management_urls_choose_their_own_interfaces_and_win_over_the_port()
    {
        var addresses = ListenerAddresses.Resolve("http://127.0.0.1:5081", "9081", "http://0.0.0.0:9100;http://[::]:9101");

        Assert.Equal(["http://0.0.0.0:9100", "http://[::]:9101"], addresses.ManagementUrls);
        Assert.Equal([9100, 9101], addresses.ManagementPorts.Order());
    }

    [Theory]
    [InlineData("http://127.0.0.1:5081", null, null, "Set Management:Port (or Management:Urls)")]
    [InlineData("http://127.0.0.1:5081", " ", "", "Set Management:Port (or Management:Urls)")]
    [InlineData("http://127.0.0.1:5081", "0", null, "Management:Port must be a port number from 1 to 65535, not '0'")]
    [InlineData("http://127.0.0.1:5081", "65536", null, "Management:Port must be a port number from 1 to 65535")]
    [InlineData("http://127.0.0.1:5081", "-1", null, "Management:Port must be a port number")]
    [InlineData("http://127.0.0.1:5081", "metrics", null, "Management:Port must be a port number")]
    [InlineData("http://127.0.0.1:5081", "5081", null, "Management:Port must use a port of its own: 5081 is also the public port (Urls)")]
    [InlineData("http://127.0.0.1:5081;http://127.0.0.1:9081", "9081", null, "Management:Port must use a port of its own: 9081")]
    [InlineData("http://127.0.0.1:5081", null, "http://127.0.0.1:5081", "Management:Urls must use a port of its own: 5081")]
    [InlineData("http://127.0.0.1:5081", null, "http://127.0.0.1:0", "Management:Urls needs a fixed TCP port")]
    [InlineData("http://127.0.0.1:5081", null, "http://unix:/tmp/management.sock", "Management:Urls needs a fixed TCP port")]
    [InlineData("http://unix:/tmp/public.sock", "9081", null, "Management:Port cannot be placed beside a Unix socket in Urls")]
    [InlineData("http://127.0.0.1:5081", null, "not a url", "Management:Urls: 'not a url' is not an address")]
    [InlineData("127.0.0.1:5081", "9081", null, "Urls: '127.0.0.1:5081' is not an address")]
    public void Settings_that_cannot_give_a_port_apart_stop_start_up_naming_the_setting(string? urls, string? port, string? managementUrls, string expected)
    {
        var failure = Assert.Throws<InvalidOperationException>(() => ListenerAddresses.Resolve(urls, port, managementUrls));

        Assert.Contains(expected, failure.Message);
    }
}
