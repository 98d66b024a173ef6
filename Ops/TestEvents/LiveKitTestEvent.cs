using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Pipeline.Ops.TestEvents;

/// <summary>
/// A sample LiveKit <c>WebhookEvent</c> in protojson (camelCase, int64 as strings, enums as names), with the
/// <c>Authorization</c> JWT LiveKit sends: HS256 with the API secret, <c>iss</c> = API key, valid for 5 minutes,
/// claim <c>sha256</c> = Base64 SHA-256 of the body.
/// </summary>
public static class LiveKitTestEvent
{
    public const string ApiKeyVariable = "LIVEKIT_API_KEY";
    public const string ApiSecretVariable = "LIVEKIT_API_SECRET";

    public static readonly string[] Events =
    [
        "room_started", "room_finished", "participant_joined", "participant_left", "participant_connection_aborted",
        "track_published", "track_unpublished", "egress_started", "egress_updated", "egress_ended", "ingress_started",
        "ingress_ended",
    ];

    // RFC 2104 pads a shorter HMAC key with zeros to the block size, so padding here signs exactly as LiveKit does;
    // IdentityModel refuses HMAC keys under 256 bits, and LiveKit secrets may be shorter.
    private const int HmacBlockSize = 64;

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static TestRequest Build(string eventName, string room, string identity, string apiKey, string apiSecret, DateTimeOffset now)
    {
        var body = Body(eventName, room, identity, now);
        var token = Token(body, apiKey, apiSecret, now);
        return new TestRequest("webhooks/livekit", body, "application/webhook+json", [("Authorization", token)]);
    }

    public static string Body(string eventName, string room, string identity, DateTimeOffset now)
    {
        var seconds = TestSigning.UnixSeconds(now);
        var roomSid = TestSigning.StableId("RM_", room);
        var started = now.AddMinutes(-1);
        var participant = new
        {
            sid = TestSigning.StableId("PA_", room + "/" + identity),
            identity,
            name = identity,
            state = eventName is "participant_left" or "participant_connection_aborted" ? "DISCONNECTED" : "ACTIVE",
            joinedAt = TestSigning.UnixSeconds(started),
        };
        var egressDone = eventName == "egress_ended";
        var ingressLive = eventName == "ingress_started";
        var fields = new Dictionary<string, object?>
        {
            ["event"] = eventName,
            ["room"] = eventName.StartsWith("egress_", StringComparison.Ordinal) || eventName.StartsWith("ingress_", StringComparison.Ordinal)
                ? null
                : new
                {
                    sid = roomSid,
                    name = room,
                    emptyTimeout = 300,
                    creationTime = TestSigning.UnixSeconds(started),
                    numParticipants = eventName == "room_finished" ? (int?)null : 1,
                },
            ["participant"] = eventName.StartsWith("participant_", StringComparison.Ordinal) || eventName.StartsWith("track_", StringComparison.Ordinal)
                ? participant
                : null,
            ["track"] = eventName.StartsWith("track_", StringComparison.Ordinal)
                ? new { sid = TestSigning.StableId("TR_", room + "/" + identity + "/mic"), type = "AUDIO", source = "MICROPHONE", name = "microphone", mimeType = "audio/opus" }
                : null,
            ["egressInfo"] = eventName.StartsWith("egress_", StringComparison.Ordinal)
                ? new
                {
                    egressId = TestSigning.StableId("EG_", room),
                    roomId = roomSid,
                    roomName = room,
                    status = egressDone ? "EGRESS_COMPLETE" : eventName == "egress_started" ? "EGRESS_STARTING" : "EGRESS_ACTIVE",
                    startedAt = Nanoseconds(started),
                    endedAt = egressDone ? Nanoseconds(now) : null,
                    fileResults = egressDone ? new[] { new { filename = $"{room}.mp4", location = $"s3://recordings/{room}.mp4" } } : null,
                }
                : null,
            ["ingressInfo"] = eventName.StartsWith("ingress_", StringComparison.Ordinal)
                ? new
                {
                    ingressId = TestSigning.StableId("IN_", room),
                    name = "test stream",
                    roomName = room,
                    state = new { status = ingressLive ? "ENDPOINT_PUBLISHING" : "ENDPOINT_INACTIVE" },
                }
                : null,
            ["id"] = "EV_" + TestSigning.RandomId(),
            ["createdAt"] = seconds,
        };
        return JsonSerializer.Serialize(fields, Json);
    }

    /// <summary>The token LiveKit puts in <c>Authorization</c> (no <c>Bearer</c> prefix).</summary>
    public static string Token(string body, string apiKey, string apiSecret, DateTimeOffset now)
    {
        var secret = TestSigning.Utf8(apiSecret);
        if (secret.Length < HmacBlockSize)
        {
            Array.Resize(ref secret, HmacBlockSize);
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = apiKey,
            NotBefore = now.UtcDateTime,
            Expires = now.AddMinutes(5).UtcDateTime,
            Claims = new Dictionary<string, object> { ["sha256"] = Convert.ToBase64String(SHA256.HashData(TestSigning.Utf8(body))) },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(secret), SecurityAlgorithms.HmacSha256),
        });
    }

    private static string Nanoseconds(DateTimeOffset at) =>
        ((at.ToUnixTimeMilliseconds()) * 1_000_000L).ToString(CultureInfo.InvariantCulture);
}
