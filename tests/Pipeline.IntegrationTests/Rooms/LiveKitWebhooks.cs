using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.IntegrationTests.Rooms;

/// <summary>LiveKit webhook bodies as protojson (camelCase, int64 as strings, zero values omitted); signed by <see cref="Interop.LiveKitTestSigner"/>.</summary>
public static class LiveKitWebhooks
{
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static string Seconds(DateTimeOffset at) => at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);

    public static Dictionary<string, object?> Room(string sid, string name, DateTimeOffset createdAt) => new()
    {
        ["sid"] = sid,
        ["name"] = name,
        ["emptyTimeout"] = 300,
        ["creationTime"] = Seconds(createdAt),
        ["enabledCodecs"] = new[] { new { mime = "audio/opus" }, new { mime = "video/VP8" } },
    };

    public static Dictionary<string, object?> Participant(string sid, string identity, DateTimeOffset joinedAt, string state = "ACTIVE") => new()
    {
        ["sid"] = sid,
        ["identity"] = identity,
        ["name"] = identity.ToUpperInvariant(),
        ["state"] = state,
        ["joinedAt"] = Seconds(joinedAt),
        ["version"] = 3,
    };

    /// <summary>A video track (type VIDEO = 1 is written; AUDIO = 0 would be omitted by protojson).</summary>
    public static Dictionary<string, object?> VideoTrack(string sid, string source = "CAMERA") => new()
    {
        ["sid"] = sid,
        ["type"] = "VIDEO",
        ["source"] = source,
        ["name"] = "camera",
        ["mimeType"] = "video/VP8",
        ["width"] = 1280,
        ["height"] = 720,
    };

    /// <summary>A microphone track: protojson omits <c>type</c>, because AUDIO is the enum's zero value.</summary>
    public static Dictionary<string, object?> MicrophoneTrack(string sid) => new()
    {
        ["sid"] = sid,
        ["source"] = "MICROPHONE",
        ["mimeType"] = "audio/opus",
    };

    public static string Body(string eventName, string eventId, DateTimeOffset at,
        Dictionary<string, object?>? room = null, Dictionary<string, object?>? participant = null, Dictionary<string, object?>? track = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["event"] = eventName,
            ["room"] = room,
            ["participant"] = participant,
            ["track"] = track,
            ["id"] = eventId,
            ["createdAt"] = Seconds(at),
        }, Json);
}
