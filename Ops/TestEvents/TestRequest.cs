using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Ops.TestEvents;

/// <summary>
/// What to POST: path relative to Ingress (a query string may follow), body, content type and the signing headers.
/// </summary>
public sealed record TestRequest(string Path, string Body, string ContentType, IReadOnlyList<(string Name, string Value)> Headers)
{
    /// <summary>The path without its query string, for printing: a token scheme carries its secret there.</summary>
    public string PrintablePath => Path.Split('?', 2)[0];
}

/// <summary>What the test events' signing has in common.</summary>
public static class TestSigning
{
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>Lowercase hex HMAC-SHA256 keyed with the secret's UTF-8 bytes.</summary>
    public static string HexHmacSha256(string secret, string signed) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Utf8(secret), Utf8(signed)));

    public static string UnixSeconds(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    /// <summary>A short random hex id for sample ids (EV_…, evt_…).</summary>
    public static string RandomId(int bytes = 8) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>A stable id derived from a name, so two events about the same room or participant agree.</summary>
    public static string StableId(string prefix, string name) =>
        prefix + Convert.ToHexStringLower(SHA256.HashData(Utf8(name)))[..12];
}
