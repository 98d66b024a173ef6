using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Pipeline.Ops.TestEvents;

/// <summary>A sample E2B lifecycle event in either wire format, signed as E2B (or the seeds' deployments) sign.</summary>
public static class E2bTestEvent
{
    public static readonly string[] Labels = ["create", "kill", "pause", "resume", "update"];

    public static TestRequest Build(string label, string format, string sandboxId, string secret, DateTimeOffset now)
    {
        var timestamp = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        if (format == "seed")
        {
            var seed = JsonSerializer.Serialize(new
            {
                eventCategory = "lifecycle",
                eventLabel = label,
                sandboxId,
                sandboxTeamId = "team-test",
                sandboxTemplateId = "base",
                timestamp,
            });
            var hmac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(seed));
            return new TestRequest("webhooks/e2b", seed, "application/json", [("X-E2B-Signature", Convert.ToHexStringLower(hmac))]);
        }

        var past = label switch { "create" => "created", "kill" => "killed", "pause" => "paused", "resume" => "resumed", _ => "updated" };
        var body = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["id"] = Guid.NewGuid().ToString(),
            ["version"] = "v2",
            ["type"] = "sandbox.lifecycle." + past,
            ["timestamp"] = timestamp,
            ["event_category"] = "lifecycle",
            ["event_label"] = label,
            ["sandbox_id"] = sandboxId,
            ["sandbox_team_id"] = "team-test",
            ["sandbox_template_id"] = "base",
            ["event_data"] = label is "kill" or "pause"
                ? new { execution = new { started_at = now.AddMinutes(-1).UtcDateTime.ToString("O"), vcpu_count = 2, memory_mb = 512, execution_time = 60_000 } }
                : null,
        });
        var hash = SHA256.HashData([.. Encoding.UTF8.GetBytes(secret), .. Encoding.UTF8.GetBytes(body)]);
        return new TestRequest("webhooks/e2b", body, "application/json",
            [("e2b-signature", Convert.ToBase64String(hash).TrimEnd('=')), ("e2b-signature-version", "v1"), ("e2b-delivery-id", Guid.NewGuid().ToString())]);
    }
}
