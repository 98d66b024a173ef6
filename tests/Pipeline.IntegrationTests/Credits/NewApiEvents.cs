using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Pipeline.IntegrationTests.Credits;

/// <summary>new-api family webhooks as the gateway fork sends them: the envelope with a consume row, hex HMAC signed.</summary>
public static class NewApiEvents
{
    /// <param name="userId">A long gives a JSON number (new-api's own ids), a string a JSON string (forks).</param>
    public static string Consume(string requestId, object userId, long quota, string model = "gpt-4o-mini", long? createdAt = null)
    {
        var at = createdAt ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["type"] = "consume",
            ["title"] = "",
            ["content"] = "",
            ["values"] = null,
            ["timestamp"] = at,
            ["data"] = new Dictionary<string, object?>
            {
                ["request_id"] = requestId,
                ["user_id"] = userId,
                ["username"] = $"user {userId}",
                ["token_id"] = 1,
                ["token_name"] = "default",
                ["model_name"] = model,
                ["quota"] = quota,
                ["prompt_tokens"] = quota / 10,
                ["completion_tokens"] = quota / 20,
                ["use_time"] = 1,
                ["is_stream"] = false,
                ["group"] = "default",
                ["channel"] = 1,
                ["created_at"] = at,
            },
        });
    }

    public static string Notification(string type, string title, string content) =>
        JsonSerializer.Serialize(new { type, title, content, values = new[] { "1.00" }, timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds() });

    public static HttpRequestMessage SignedRequest(string body, string secret, string path = "webhooks/new-api")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Webhook-Signature",
            Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body))));
        return request;
    }
}
