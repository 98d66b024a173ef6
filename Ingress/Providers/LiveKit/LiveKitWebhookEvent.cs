using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Pipeline.Ingress.Providers.LiveKit;

// The subset of LiveKit's WebhookEvent (livekit_webhook.proto, livekit_models.proto, livekit_egress.proto,
// livekit_ingress.proto) that Rooms uses, read as protojson readers do: each field under its JSON name (camelCase)
// and under the proto's own name (snake_case, added by LiveKitWire.AddProtoNames); int64 as strings or numbers; enums
// as names or numbers. Unknown fields are skipped.

internal sealed class LiveKitWebhookEvent
{
    [JsonPropertyName("event")] public string? Event { get; set; }
    [JsonPropertyName("id")] public string? Id { get; set; }
    [JsonPropertyName("createdAt"), JsonConverter(typeof(ProtoSecondsConverter))] public DateTimeOffset? CreatedAt { get; set; }

    // The seed's example writes the event time as creation_time.
    [JsonPropertyName("creationTime"), JsonConverter(typeof(ProtoSecondsConverter))] public DateTimeOffset? CreationTime { get; set; }

    [JsonPropertyName("room")] public LiveKitRoom? Room { get; set; }
    [JsonPropertyName("participant")] public LiveKitParticipant? Participant { get; set; }
    [JsonPropertyName("track")] public LiveKitTrack? Track { get; set; }
    [JsonPropertyName("egressInfo")] public LiveKitEgress? EgressInfo { get; set; }
    [JsonPropertyName("ingressInfo")] public LiveKitIngress? IngressInfo { get; set; }
}

internal sealed class LiveKitRoom
{
    [JsonPropertyName("sid")] public string? Sid { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("metadata")] public string? Metadata { get; set; }
    [JsonPropertyName("creationTime"), JsonConverter(typeof(ProtoSecondsConverter))] public DateTimeOffset? CreationTime { get; set; }
    [JsonPropertyName("creationTimeMs"), JsonConverter(typeof(ProtoMillisecondsConverter))] public DateTimeOffset? CreationTimeMs { get; set; }
    [JsonPropertyName("emptyTimeout"), JsonConverter(typeof(ProtoInt32Converter))] public int? EmptyTimeout { get; set; }
    [JsonPropertyName("maxParticipants"), JsonConverter(typeof(ProtoInt32Converter))] public int? MaxParticipants { get; set; }
    [JsonPropertyName("numParticipants"), JsonConverter(typeof(ProtoInt32Converter))] public int? NumParticipants { get; set; }
}

internal sealed class LiveKitParticipant
{
    [JsonPropertyName("sid")] public string? Sid { get; set; }
    [JsonPropertyName("identity")] public string? Identity { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("metadata")] public string? Metadata { get; set; }
    [JsonPropertyName("state"), JsonConverter(typeof(ParticipantStateConverter))] public string? State { get; set; }
    [JsonPropertyName("kind"), JsonConverter(typeof(ParticipantKindConverter))] public string? Kind { get; set; }
    [JsonPropertyName("joinedAt"), JsonConverter(typeof(ProtoSecondsConverter))] public DateTimeOffset? JoinedAt { get; set; }
    [JsonPropertyName("joinedAtMs"), JsonConverter(typeof(ProtoMillisecondsConverter))] public DateTimeOffset? JoinedAtMs { get; set; }
}

internal sealed class LiveKitTrack
{
    [JsonPropertyName("sid")] public string? Sid { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("mimeType")] public string? MimeType { get; set; }
    [JsonPropertyName("type"), JsonConverter(typeof(TrackTypeConverter))] public string? Type { get; set; }
    [JsonPropertyName("source"), JsonConverter(typeof(TrackSourceConverter))] public string? Source { get; set; }
}

internal sealed class LiveKitEgress
{
    [JsonPropertyName("egressId")] public string? EgressId { get; set; }
    [JsonPropertyName("roomId")] public string? RoomId { get; set; }
    [JsonPropertyName("roomName")] public string? RoomName { get; set; }
    [JsonPropertyName("error")] public string? Error { get; set; }
    [JsonPropertyName("status"), JsonConverter(typeof(EgressStatusConverter))] public string? Status { get; set; }
    [JsonPropertyName("startedAt"), JsonConverter(typeof(ProtoNanosecondsConverter))] public DateTimeOffset? StartedAt { get; set; }
    [JsonPropertyName("endedAt"), JsonConverter(typeof(ProtoNanosecondsConverter))] public DateTimeOffset? EndedAt { get; set; }
    [JsonPropertyName("fileResults")] public List<LiveKitFile?>? FileResults { get; set; }
    [JsonPropertyName("segmentResults")] public List<LiveKitSegments?>? SegmentResults { get; set; }
    [JsonPropertyName("streamResults")] public List<LiveKitStream?>? StreamResults { get; set; }

    // The deprecated single result.
    [JsonPropertyName("file")] public LiveKitFile? File { get; set; }
    [JsonPropertyName("segments")] public LiveKitSegments? Segments { get; set; }
    [JsonPropertyName("stream")] public LiveKitStreams? Stream { get; set; }
}

internal sealed class LiveKitFile
{
    [JsonPropertyName("location")] public string? Location { get; set; }
    [JsonPropertyName("filename")] public string? Filename { get; set; }
}

internal sealed class LiveKitSegments
{
    [JsonPropertyName("playlistLocation")] public string? PlaylistLocation { get; set; }
    [JsonPropertyName("playlistName")] public string? PlaylistName { get; set; }
    [JsonPropertyName("livePlaylistLocation")] public string? LivePlaylistLocation { get; set; }
}

internal sealed class LiveKitStream
{
    [JsonPropertyName("url")] public string? Url { get; set; }
}

internal sealed class LiveKitStreams
{
    [JsonPropertyName("info")] public List<LiveKitStream?>? Info { get; set; }
}

internal sealed class LiveKitIngress
{
    [JsonPropertyName("ingressId")] public string? IngressId { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("roomName")] public string? RoomName { get; set; }
    [JsonPropertyName("state")] public LiveKitIngressState? State { get; set; }
}

internal sealed class LiveKitIngressState
{
    [JsonPropertyName("status"), JsonConverter(typeof(IngressStatusConverter))] public string? Status { get; set; }
}

[JsonSourceGenerationOptions(Converters = [typeof(WireStringConverter)])]
[JsonSerializable(typeof(LiveKitWebhookEvent))]
internal sealed partial class LiveKitWireContext : JsonSerializerContext;

internal static class LiveKitWire
{
    public static readonly JsonTypeInfo<LiveKitWebhookEvent> WebhookEvent = (JsonTypeInfo<LiveKitWebhookEvent>)new JsonSerializerOptions(
        LiveKitWireContext.Default.Options) { TypeInfoResolver = LiveKitWireContext.Default.WithAddedModifier(AddProtoNames) }
        .GetTypeInfo(typeof(LiveKitWebhookEvent));

    // Each field whose proto name differs from its JSON name is read under both; the JSON name wins when both are sent.
    private static void AddProtoNames(JsonTypeInfo type)
    {
        foreach (var property in type.Kind == JsonTypeInfoKind.Object ? type.Properties.ToArray() : [])
        {
            var protoName = JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);
            if (protoName != property.Name && property is { Get: { } get, Set: { } set })
            {
                var alias = type.CreateJsonPropertyInfo(property.PropertyType, protoName);
                alias.CustomConverter = property.CustomConverter;
                alias.Set = (target, value) =>
                {
                    if (get(target) is null)
                    {
                        set(target, value);
                    }
                };
                type.Properties.Add(alias);
            }
        }
    }
}

/// <summary>protojson writes 64-bit integers as strings and 32-bit ones as numbers, and reads either; so do we.</summary>
internal sealed class ProtoInt32Converter : ReadOnlyConverter<int?>
{
    public override int? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ReadInt64(ref reader) is var number and >= int.MinValue and <= int.MaxValue ? (int)number : throw new WireValueException("out of range");

    public static long ReadInt64(ref Utf8JsonReader reader)
    {
        long number = 0;
        return reader.TokenType switch
        {
            JsonTokenType.Number when reader.TryGetInt64(out number) => number,
            JsonTokenType.String when long.TryParse(WireStringConverter.Text(ref reader), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number) => number,
            _ => throw new WireValueException("must be an integer"),
        };
    }
}

/// <summary>
/// A time as an int64 count of units since the Unix epoch. Zero is proto3's "not set" (protojson omits it); a negative
/// time or one past year 9999 is malformed (any positive int64 of nanoseconds is before 2263).
/// </summary>
internal abstract class ProtoTimeConverter(long unitsPerSecond) : ReadOnlyConverter<DateTimeOffset?>
{
    private readonly long _max = long.MaxValue / unitsPerSecond >= WireJson.MaxUnixSeconds ? WireJson.MaxUnixSeconds * unitsPerSecond : long.MaxValue;

    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var number = ProtoInt32Converter.ReadInt64(ref reader);
        if (number == 0)
        {
            return null;
        }

        if (number < 0 || number > _max)
        {
            throw new WireValueException("out of range");
        }

        return DateTimeOffset.UnixEpoch.AddTicks(unitsPerSecond <= TimeSpan.TicksPerSecond
            ? number * (TimeSpan.TicksPerSecond / unitsPerSecond)
            : number / (unitsPerSecond / TimeSpan.TicksPerSecond));
    }
}

internal sealed class ProtoSecondsConverter() : ProtoTimeConverter(1);

internal sealed class ProtoMillisecondsConverter() : ProtoTimeConverter(1_000);

internal sealed class ProtoNanosecondsConverter() : ProtoTimeConverter(1_000_000_000);

/// <summary>
/// An enum by name, or by number mapped to its name where known (a gap in a table is a number the proto does not
/// define). An empty name is null, as an omitted enum is: the mapping gives it the zero value, the first name.
/// </summary>
internal abstract class ProtoEnumConverter(string?[] names) : ReadOnlyConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => WireStringConverter.Text(ref reader) is { Length: > 0 } text ? text : null,
        JsonTokenType.Number when reader.TryGetInt32(out var number) =>
            (number >= 0 && number < names.Length ? names[number] : null) ?? number.ToString(CultureInfo.InvariantCulture),
        _ => throw new WireValueException("must be an enum name or number"),
    };
}

internal static class LiveKitEnums
{
    public static readonly string[] EgressStatuses =
    [
        "EGRESS_STARTING", "EGRESS_ACTIVE", "EGRESS_ENDING", "EGRESS_COMPLETE", "EGRESS_FAILED", "EGRESS_ABORTED",
        "EGRESS_LIMIT_REACHED",
    ];

    public static readonly string[] IngressStatuses =
        ["ENDPOINT_INACTIVE", "ENDPOINT_BUFFERING", "ENDPOINT_PUBLISHING", "ENDPOINT_ERROR", "ENDPOINT_COMPLETE"];

    public static readonly string[] ParticipantStates = ["JOINING", "JOINED", "ACTIVE", "DISCONNECTED"];

    public static readonly string?[] ParticipantKinds =
        ["STANDARD", "INGRESS", "EGRESS", "SIP", "AGENT", null, null, "CONNECTOR", "BRIDGE"];

    public static readonly string[] TrackTypes = ["AUDIO", "VIDEO", "DATA"];

    public static readonly string[] TrackSources = ["UNKNOWN", "CAMERA", "MICROPHONE", "SCREEN_SHARE", "SCREEN_SHARE_AUDIO"];
}

internal sealed class EgressStatusConverter() : ProtoEnumConverter(LiveKitEnums.EgressStatuses);

internal sealed class IngressStatusConverter() : ProtoEnumConverter(LiveKitEnums.IngressStatuses);

internal sealed class ParticipantStateConverter() : ProtoEnumConverter(LiveKitEnums.ParticipantStates);

internal sealed class ParticipantKindConverter() : ProtoEnumConverter(LiveKitEnums.ParticipantKinds);

internal sealed class TrackTypeConverter() : ProtoEnumConverter(LiveKitEnums.TrackTypes);

internal sealed class TrackSourceConverter() : ProtoEnumConverter(LiveKitEnums.TrackSources);
