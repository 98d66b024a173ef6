using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Consumers.Deliveries.Events;

/// <summary>One public event before it is serialized: the seed's envelope fields, <see cref="Data"/> one of the records in EventData.cs.</summary>
public sealed record PublicEvent(string Id, string Type, string Source, DateTimeOffset Timestamp, object Data)
{
    public const string Version = "1.0";

    /// <summary>snake_case like the seed's envelope; absent values are left out rather than sent as null.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
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
