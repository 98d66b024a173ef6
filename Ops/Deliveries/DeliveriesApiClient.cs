using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Pipeline.Ops.Deliveries;

/// <summary>The Deliveries service's HTTP API as pipeline-ops calls it: bearer admin key, JSON in and out.</summary>
public sealed class DeliveriesApiClient(Uri baseAddress, string adminKey) : IDisposable
{
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true };

    private readonly HttpClient _http = new()
    {
        BaseAddress = baseAddress,
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", adminKey) },
        Timeout = TimeSpan.FromMinutes(5),
    };

    public sealed record Answer(int Status, JsonElement Json, string Text)
    {
        public bool Ok => Status is >= 200 and < 300;

        /// <summary>The error message of a refusal (the API's <c>message</c>), else the body.</summary>
        public string Message => Json.ValueKind == JsonValueKind.Object && Json.TryGetProperty("message", out var m) ? m.GetString() ?? Text : Text;
    }

    public Task<Answer> GetAsync(string path, CancellationToken ct) => SendAsync(new HttpRequestMessage(HttpMethod.Get, path), ct);

    public Task<Answer> PostAsync(string path, object? body, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = body is null ? null : JsonContent.Create(body) }, ct);

    public Task<Answer> DeleteAsync(string path, CancellationToken ct) => SendAsync(new HttpRequestMessage(HttpMethod.Delete, path), ct);

    public static string Indented(JsonElement json) => JsonSerializer.Serialize(json, Pretty);

    public void Dispose() => _http.Dispose();

    private async Task<Answer> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using (request)
        {
            using var response = await _http.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            JsonElement json = default;
            if (text.Length > 0)
            {
                try
                {
                    json = JsonDocument.Parse(text).RootElement;
                }
                catch (JsonException)
                {
                }
            }

            return new Answer((int)response.StatusCode, json, text);
        }
    }
}
