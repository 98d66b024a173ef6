using System.Text.Json;

namespace Pipeline.Ops.TestEvents;

/// <summary>
/// A sample new-api family webhook: <c>consume</c> (one API call's usage, the seed fork's per-call webhook) or an
/// upstream notification, in new-api's envelope, signed with <c>X-Webhook-Signature</c> = hex HMAC-SHA256 of the
/// body, or sent as new-api's proxy mode does with <c>Authorization: Bearer &lt;secret&gt;</c>.
/// </summary>
public static class NewApiTestEvent
{
    public const string SecretVariable = "NEWAPI_WEBHOOK_SECRET";

    /// <summary>The seed deployments' variable, which Ingress also reads.</summary>
    public const string SeedSecretVariable = "WEBHOOK_SECRET";
    public const string Consume = "consume";

    public static readonly string[] Events = [Consume, "quota_exceed", "channel_update", "channel_test"];
    public static readonly string[] AuthModes = ["hmac", "bearer"];

    public static TestRequest Build(
        string eventName, string user, long quota, string? requestId, string auth, string secret, DateTimeOffset now)
    {
        var body = Body(eventName, user, quota, requestId ?? "req-test-" + Guid.NewGuid().ToString("N"), now);
        (string, string) header = auth == "bearer"
            ? ("Authorization", "Bearer " + secret)
            : ("X-Webhook-Signature", TestSigning.HexHmacSha256(secret, body));
        return new TestRequest("webhooks/new-api", body, "application/json", [header]);
    }

    public static string Body(string eventName, string user, long quota, string requestId, DateTimeOffset now)
    {
        var timestamp = now.ToUnixTimeSeconds();
        // new-api's user ids are integers; a fork's may be text.
        object userId = long.TryParse(user, out var numeric) ? numeric : user;
        return eventName == Consume
            ? JsonSerializer.Serialize(new
            {
                type = Consume,
                title = "API usage",
                content = $"test call by user {user}: {quota} quota",
                values = Array.Empty<string>(),
                timestamp,
                data = new
                {
                    request_id = requestId,
                    user_id = userId,
                    username = $"user-{user}",
                    token_id = 1,
                    token_name = "test-token",
                    model_name = "gpt-4o-mini",
                    quota,
                    prompt_tokens = 12,
                    completion_tokens = 34,
                    use_time = 1,
                    is_stream = false,
                    group = "default",
                    channel = 1,
                    created_at = timestamp,
                },
            })
            : JsonSerializer.Serialize(new
            {
                type = eventName,
                title = eventName switch { "quota_exceed" => "Quota exceeded", "channel_update" => "Channel updated", _ => "Channel test" },
                content = $"test notification from pipeline-ops ({{{{value}}}})",
                values = new[] { $"user {user}" },
                timestamp,
            });
    }
}
