using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Consumers.Deliveries.Events;

/// <summary>One public event before it is serialized: the seed's envelope fields, <see cref="Data"/> one of the records in EventData.cs.</summary>
public sealed record PublicEvent(string Id, string Type, string Source, DateTimeOffset Timestamp, object Data)
{
    public const string Version = "1.0";

    /// <summary>
    /// snake_case like the seed's envelope; absent values are left out rather than sent as null; times in UTC with
    /// milliseconds; text as UTF-8 (only what JSON requires is escaped: this is a request body, not HTML).
    /// </summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new UtcTimeConverter() },
    };

    /// <summary>The event id of a bus message: stable, so a redelivered message could never mint a second id.</summary>
    public static string IdOf(Guid messageId) => "evt_" + messageId.ToString("N");

    /// <summary>
    /// The seed's envelope <c>{"id","event_type","data","timestamp","source","version"}</c>, timestamp in unix seconds
    /// with milliseconds as the seed sends it. These bytes are signed and sent unchanged on every attempt.
    /// </summary>
    public string Serialize() => JsonSerializer.Serialize(new Envelope(
        Id, Type, Data, decimal.Divide(Timestamp.ToUnixTimeMilliseconds(), 1000m), Source, Version), Json);

    private sealed record Envelope(
        string Id, string EventType, object Data, decimal Timestamp, string Source, string Version);
}

/// <summary>Every time in an event as <c>2026-12-01T09:30:00.125Z</c>, whatever offset it came with.</summary>
internal sealed class UtcTimeConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
}
