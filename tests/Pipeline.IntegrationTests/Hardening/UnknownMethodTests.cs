using System.Net;
using System.Security.Cryptography;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Hardening;

/// <summary>
/// The HTTP metrics are labelled with the request method, so every made-up method used to add series that were never
/// freed. Such methods are answered before the metrics see them.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class UnknownMethodTests(TestServices services)
{
    [Fact]
    public async Task A_thousand_made_up_methods_add_no_metric_series()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions { Consumers = [] });
        var http = pipeline.IngressHttp;

        // ASP.NET Core's own meter counts every unknown method as one "_OTHER": a few series per route, made once.
        await SendMadeUpMethodsAsync(http, 10);
        var management = pipeline.IngressManagement;
        await management.GetStringAsync("metrics"); // the scrape itself is counted from the second one on
        var before = MethodSeries(await management.GetStringAsync("metrics"));

        var methods = await SendMadeUpMethodsAsync(http, 1000);

        var metrics = await management.GetStringAsync("metrics");
        var after = MethodSeries(metrics);
        Assert.True(after.SetEquals(before), "series added: " + string.Join(", ", after.Except(before).Take(5)) +
                                             "; series gone: " + string.Join(", ", before.Except(after).Take(5)));
        Assert.DoesNotContain(methods, m => metrics.Contains(m, StringComparison.Ordinal));

        // The defined methods still reach routing: a GET of a POST-only route is still 405.
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.GetAsync("webhooks/e2b")).StatusCode);
    }

    private static async Task<List<string>> SendMadeUpMethodsAsync(HttpClient http, int count)
    {
        string[] paths = ["webhooks/e2b", "health/live", "metrics", "api/admin/dead-letters", "nowhere"];
        var methods = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var method = "X" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6));
            methods.Add(method);
            using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), paths[i % paths.Length]));
            Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
        }

        return methods;
    }

    // Every series labelled with a method (the HTTP metrics), by name and labels.
    private static SortedSet<string> MethodSeries(string metrics) =>
        new(metrics.Split('\n')
            .Where(line => !line.StartsWith('#') && line.Contains("method=\"", StringComparison.Ordinal))
            .Select(line => line[..line.LastIndexOf(' ')]), StringComparer.Ordinal);
}
