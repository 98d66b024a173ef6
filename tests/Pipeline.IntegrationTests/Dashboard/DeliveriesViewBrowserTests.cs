using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Pipeline.IntegrationTests.Deliveries;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Dashboard;

/// <summary>The dashboard's outbound webhooks view in headless Chromium, in Standalone where the Deliveries service shares its origin.</summary>
public sealed class DeliveriesViewBrowserTests
{
    [Fact]
    public async Task The_dashboard_shows_each_endpoints_deliveries_and_its_ledger()
    {
        var data = Directory.CreateTempSubdirectory("pipeline-dashboard-deliveries-");
        var adminKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var e2bSecret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        try
        {
            await using var host = new HostProcess("standalone-dashboard", "Standalone", "Pipeline.Standalone",
                StandaloneDeliveryTests.Environment(data.FullName, adminKey, e2bSecret));
            await host.StartAsync();
            await using var healthy = new WebhookReceiver();
            await using var failing = new WebhookReceiver { Respond = _ => 500 };
            using var http = new HttpClient { BaseAddress = host.BaseAddress };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
            var ok = await CreateAsync(http, healthy.Url, "orders service");
            var bad = await CreateAsync(http, failing.Url, "broken receiver");

            Assert.Equal(HttpStatusCode.OK,
                (await http.SendAsync(E2bEvents.SignedRequest(E2bEvents.Seed("create", "sbx-view-1", DateTime.UtcNow), e2bSecret, "webhooks/e2b"))).StatusCode);
            await healthy.WaitForAsync(1, host.RecentOutput);
            await failing.WaitForAsync(1, host.RecentOutput);

            await using var page = await DashboardBrowser.OpenAsync(new Uri(host.BaseAddress, "dashboard"));
            await page.LoginAsync(adminKey);
            var good = await page.WaitForAsync($"#deliveries tr[data-endpoint-id=\"{ok}\"]", "balanced (1)");
            Assert.StartsWith("orders service\tenabled\t1\t0\t0\t0\t100 %", good);
            // The failing one waits for its next attempt (Standalone keeps the default schedule: 5 s after the first).
            var broken = await page.WaitForAsync($"#deliveries tr[data-endpoint-id=\"{bad}\"]", "balanced (1)");
            Assert.StartsWith("broken receiver\tenabled\t0\t0\t1\t0\t0 %", broken);
            await page.ScreenshotAsync("5-deliveries");

            // Disabled: the view says so, and a new event is counted as skipped.
            (await http.PostAsync($"api/endpoints/{bad}/disable", null)).EnsureSuccessStatusCode();
            await http.SendAsync(E2bEvents.SignedRequest(E2bEvents.Seed("kill", "sbx-view-1", DateTime.UtcNow), e2bSecret, "webhooks/e2b"));
            await page.WaitForAsync($"#deliveries tr[data-endpoint-id=\"{bad}\"]", "balanced (2)");
            Assert.StartsWith("broken receiver\tdisabled\t0\t0\t1\t1", await page.WaitForAsync($"#deliveries tr[data-endpoint-id=\"{bad}\"]", "disabled"));
            var (pageErrors, offOrigin) = await page.ProblemsAsync();
            Assert.Empty(pageErrors);
            Assert.Empty(offOrigin);
        }
        finally
        {
            data.Delete(recursive: true);
        }
    }

    private static async Task<Guid> CreateAsync(HttpClient http, string url, string description)
    {
        var response = await http.PostAsJsonAsync("api/endpoints", new { url, description, eventTypes = new[] { "sandbox.*" } });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, json.ToString());
        return json.GetProperty("id").GetGuid();
    }
}
