using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Deliveries;

/// <summary>The Deliveries host's endpoints API as an operator calls it (bearer admin key), and its tables for assertions.</summary>
public sealed class DeliveriesClient(PipelineTopology pipeline, string adminKey)
{
    public HttpClient Http { get; } = CreateHttp(pipeline, adminKey);

    public sealed record Endpoint(Guid Id, string Secret, JsonElement Json);

    public async Task<Endpoint> CreateAsync(string url, string[] eventTypes, string? scheme = null, Dictionary<string, string>? headers = null)
    {
        var response = await Http.PostAsJsonAsync("api/endpoints", new { url, eventTypes, scheme, headers, description = "test receiver" });
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {json}");
        return new Endpoint(json.GetProperty("id").GetGuid(), json.GetProperty("secret").GetString()!, json);
    }

    public async Task<JsonElement> PostAsync(string path, object? body = null)
    {
        var response = await Http.PostAsJsonAsync(path, body ?? new { });
        var json = response.Content.Headers.ContentLength == 0 ? default : await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {response.StatusCode} {json}");
        return json;
    }

    public async Task<JsonElement> GetAsync(string path)
    {
        var response = await Http.GetAsync(path);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {response.StatusCode}");
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>A delivery's state from the service's own table: (status, attempts).</summary>
    public async Task<(string Status, int Attempts)> DeliveryAsync(Guid endpointId, string? eventId = null)
    {
        var where = $"\"EndpointId\" = '{endpointId}'" + (eventId is null ? "" : $" AND \"EventId\" = '{eventId}'");
        var status = await pipeline.ScalarAsync<string>($"SELECT \"Status\" FROM webhook_deliveries WHERE {where}", "Deliveries");
        var attempts = await pipeline.ScalarAsync<int>($"SELECT \"Attempts\" FROM webhook_deliveries WHERE {where}", "Deliveries");
        return (status, attempts);
    }

    public Task<long> CountAsync(string sql) => pipeline.CountAsync(sql, "Deliveries");

    private static HttpClient CreateHttp(PipelineTopology pipeline, string adminKey)
    {
        var http = new HttpClient { BaseAddress = pipeline.Consumers[ConsumerService.Deliveries].BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        return http;
    }
}
