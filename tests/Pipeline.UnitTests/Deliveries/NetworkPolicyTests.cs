using System.Net;
using Pipeline.Consumers.Deliveries.Security;

namespace Pipeline.UnitTests.Deliveries;

public class NetworkPolicyTests
{
    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.8.9.10", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("10.0.0.1", "private")]
    [InlineData("172.16.5.4", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("100.64.0.1", "shared (CGNAT)")]
    [InlineData("169.254.10.10", "link-local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("fd12:3456::1", "unique-local")]
    [InlineData("198.18.0.1", "reserved")]
    [InlineData("192.0.2.1", "reserved")]
    [InlineData("2001:db8::1", "reserved")]
    [InlineData("::ffff:10.0.0.1", "private")]
    [InlineData("::ffff:127.0.0.1", "loopback")]
    [InlineData("64:ff9b::a00:1", "private")]
    [InlineData("2002:a00:1::1", "private")]
    public void Private_addresses_are_refused_unless_allowed(string address, string kind)
    {
        var refusal = NetworkPolicy.Refusal(IPAddress.Parse(address), allowPrivateNetworks: false);

        Assert.NotNull(refusal);
        Assert.Equal(kind, refusal.Kind);
        Assert.True(refusal.Private);
        Assert.Null(NetworkPolicy.Refusal(IPAddress.Parse(address), allowPrivateNetworks: true));
    }

    [Theory]
    [InlineData("169.254.169.254", "cloud metadata")]
    [InlineData("::ffff:169.254.169.254", "cloud metadata")]
    [InlineData("fd00:ec2::254", "cloud metadata")]
    [InlineData("100.100.100.200", "cloud metadata")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("240.0.0.1", "reserved")]
    public void Metadata_multicast_and_unspecified_addresses_are_refused_always(string address, string kind)
    {
        foreach (var allowPrivate in new[] { false, true })
        {
            var refusal = NetworkPolicy.Refusal(IPAddress.Parse(address), allowPrivate);

            Assert.NotNull(refusal);
            Assert.Equal(kind, refusal.Kind);
            Assert.False(refusal.Private);
        }
    }

    [Theory]
    [InlineData("93.184.215.14")]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("2606:4700::1111")]
    [InlineData("::ffff:93.184.215.14")]
    public void Public_addresses_are_allowed(string address) =>
        Assert.Null(NetworkPolicy.Refusal(IPAddress.Parse(address), allowPrivateNetworks: false));

    [Fact]
    public void A_refusal_says_what_the_address_is_and_which_setting_opens_it()
    {
        Assert.Equal("a private address (10.0.0.1), refused unless Deliveries:AllowPrivateNetworks=true",
            NetworkPolicy.Refusal(IPAddress.Parse("10.0.0.1"), false)!.ToString());
        Assert.Equal("a cloud metadata address (169.254.169.254), always refused",
            NetworkPolicy.Refusal(IPAddress.Parse("169.254.169.254"), true)!.ToString());
    }
}
