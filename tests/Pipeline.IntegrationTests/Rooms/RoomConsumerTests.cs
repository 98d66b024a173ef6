using System.Net.Http.Json;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.Messages.Rooms;
using RabbitMQ.Client;

namespace Pipeline.IntegrationTests.Rooms;

/// <summary>
/// The Rooms service against the broker and database alone: messages published straight to rooms-livekit, the way
/// the outbox dispatcher publishes them, so the consumer's guards are tested without relying on Ingress's.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class RoomConsumerTests(TestServices services)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task One_event_id_in_two_messages_shuffled_and_concurrent_counts_once()
    {
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions { Consumers = [ConsumerService.Rooms], SeparateDatabases = true });
        var rooms = pipeline.ConsumerHttp[ConsumerService.Rooms];
        var t0 = new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
        var room = new LiveKitRoomV1 { Sid = "RM_consumer1", Name = "consumer-room", CreationTime = t0 };
        LiveKitParticipantV1 P(string who, int joined) => new() { Sid = "PA_" + who, Identity = who, JoinedAt = t0.AddSeconds(joined) };
        LiveKitEventV1 E(string name, int at, LiveKitParticipantV1? p = null, LiveKitTrackV1? track = null, LiveKitEgressV1? egress = null) => new()
        {
            EventId = $"EV_{name}_{at}",
            Event = name,
            CreatedAt = t0.AddSeconds(at),
            Room = egress is null ? room : null,
            Participant = p,
            Track = track,
            Egress = egress,
            ReceiptId = Guid.NewGuid(),
        };

        var events = new[]
        {
            E("room_started", 0),
            E("participant_joined", 10, P("alice", 10)),
            E("participant_joined", 20, P("bob", 20)),
            E("participant_joined", 30, P("carol", 30)),
            E("track_published", 31, P("alice", 10), new LiveKitTrackV1 { Sid = "TR_a", Type = "AUDIO", Source = "MICROPHONE" }),
            E("egress_started", 32, egress: new LiveKitEgressV1 { EgressId = "EG_1", RoomId = room.Sid, RoomName = room.Name, StartedAt = t0.AddSeconds(32) }),
            E("participant_connection_aborted", 60, P("bob", 20)),
            E("egress_ended", 118, egress: new LiveKitEgressV1
            {
                EgressId = "EG_1", RoomId = room.Sid, RoomName = room.Name, Status = "EGRESS_COMPLETE",
                StartedAt = t0.AddSeconds(32), EndedAt = t0.AddSeconds(118), Locations = ["s3://recordings/consumer-room.mp4"],
            }),
            E("room_finished", 120),
            E("ingress_started", 5),
        };

        // Each event twice under different message ids (a slip that got past Ingress), one message twice under the
        // same id (a redelivery), all in a shuffled order and published concurrently.
        var messages = events.SelectMany(e => new[] { (Id: Guid.NewGuid(), Event: e), (Id: Guid.NewGuid(), Event: e) }).ToList();
        messages.Add(messages[3]);
        var random = new Random(42);
        messages = [.. messages.OrderBy(_ => random.Next())];

        var factory = new ConnectionFactory { Uri = new Uri(services.RabbitMq, pipeline.Name) };
        await using (var connection = await factory.CreateConnectionAsync())
        {
            await Parallel.ForEachAsync(messages.Chunk(6), async (chunk, ct) =>
            {
                await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true), ct);
                foreach (var (id, e) in chunk)
                {
                    await PublishAsync(channel, id, e, ct);
                }
            });
        }

        var distinctRoomEvents = events.Length - 1;
        var final = await Eventually.WaitAsync(async () => await rooms.GetFromJsonAsync<JsonElement>("api/rooms/consumer-room"),
            r => r.GetProperty("eventCount").GetInt32() == distinctRoomEvents, Deadline, "every event applied", pipeline.Diagnostics);
        // Every message id is recorded once, duplicates included (the management API's queue depth can be seconds
        // old, so it cannot tell that the last duplicates are still in flight).
        await Eventually.WaitAsync(() => pipeline.CountAsync("SELECT count(*) FROM rooms_inbox", "Rooms"), n => n >= events.Length * 2, Deadline,
            "every message id in the inbox", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.QueueDepthAsync("rooms-livekit"), d => d == (0, 0), Deadline, "the queue drained", pipeline.Diagnostics);

        Assert.Equal("finished", final.GetProperty("status").GetString());
        Assert.Equal(0, final.GetProperty("participants").GetInt32());
        Assert.Equal(3, final.GetProperty("peakParticipants").GetInt32());
        var sessions = final.GetProperty("sessions").EnumerateArray().ToDictionary(s => s.GetProperty("identity").GetString()!, s => s.GetProperty("endReason").GetString());
        Assert.Equal(new Dictionary<string, string?> { ["alice"] = "room_finished", ["bob"] = "connection_aborted", ["carol"] = "room_finished" }, sessions);
        var egress = Assert.Single(final.GetProperty("egress").EnumerateArray());
        Assert.Equal("complete", egress.GetProperty("status").GetString());
        Assert.Equal("s3://recordings/consumer-room.mp4", Assert.Single(egress.GetProperty("locations").EnumerateArray()).GetString());

        Assert.Equal(distinctRoomEvents, await pipeline.CountAsync("SELECT count(*) FROM room_events", "Rooms"));
        Assert.Equal(events.Length * 2, await pipeline.CountAsync("SELECT count(*) FROM rooms_inbox", "Rooms"));
        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM rooms", "Rooms"));
        Assert.Equal(3, await pipeline.CountAsync("SELECT count(*) FROM room_participant_sessions", "Rooms"));
    }

    /// <summary>A MassTransit JSON envelope, as the outbox dispatcher's publish produces it.</summary>
    private static async Task PublishAsync(IChannel channel, Guid messageId, LiveKitEventV1 e, CancellationToken ct)
    {
        var envelope = new
        {
            messageId,
            messageType = new[] { "urn:message:Pipeline.Messages.Rooms:LiveKitEventV1" },
            message = e,
            sentTime = DateTime.UtcNow,
            headers = new { },
        };
        var properties = new BasicProperties
        {
            ContentType = "application/vnd.masstransit+json",
            MessageId = messageId.ToString(),
            DeliveryMode = DeliveryModes.Persistent,
        };
        await channel.BasicPublishAsync("rooms-livekit", "", true, properties, JsonSerializer.SerializeToUtf8Bytes(envelope, Json), ct);
    }
}
