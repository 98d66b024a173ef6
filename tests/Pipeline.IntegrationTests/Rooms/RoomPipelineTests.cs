using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.IntegrationTests.Interop;
using Xunit.Abstractions;
using static Pipeline.IntegrationTests.Rooms.LiveKitWebhooks;

namespace Pipeline.IntegrationTests.Rooms;

/// <summary>LiveKit events end to end: signed HTTP → Ingress → outbox → RabbitMQ → Rooms service → read API, on real services.</summary>
[Collection(PipelineCollection.Name)]
public sealed class RoomPipelineTests(TestServices services, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_livekit_session_sent_by_two_nodes_counts_once_and_ends_finished_in_the_read_api()
    {
        var apiKey = "APIrooms" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var apiSecret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [ConsumerService.Rooms],
            SeparateDatabases = true,
            IngressEnvironment = { ["LIVEKIT_API_KEY"] = apiKey, ["LIVEKIT_API_SECRET"] = apiSecret },
        });
        var rooms = pipeline.ConsumerHttp[ConsumerService.Rooms];

        var t0 = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds());
        var name = "standup-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var sid = "RM_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var room = Room(sid, name, t0);
        var alice = Participant("PA_alice", "alice", t0.AddSeconds(10));
        var bob = Participant("PA_bob", "bob", t0.AddSeconds(20));
        var carol = Participant("PA_carol", "carol", t0.AddSeconds(30));
        string Id() => "EV_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var events = new List<string>
        {
            Body("room_started", Id(), t0, room),
            Body("participant_joined", Id(), t0.AddSeconds(10), room, alice),
            Body("participant_joined", Id(), t0.AddSeconds(20), room, bob),
            Body("participant_joined", Id(), t0.AddSeconds(30), room, carol),
            Body("track_published", Id(), t0.AddSeconds(31), room, alice, VideoTrack("TR_alice_cam")),
            Body("track_published", Id(), t0.AddSeconds(31), room, alice, MicrophoneTrack("TR_alice_mic")),
            Body("track_published", Id(), t0.AddSeconds(32), room, bob, VideoTrack("TR_bob_cam")),
            Body("track_published", Id(), t0.AddSeconds(33), room, carol, VideoTrack("TR_carol_screen", "SCREEN_SHARE")),
            Body("participant_left", Id(), t0.AddSeconds(60), room, bob),
            Body("room_finished", Id(), t0.AddSeconds(120), room),
        };

        // Every event from two LiveKit nodes at once: the same body and event id, each signed by its node.
        foreach (var body in events)
        {
            var replies = await Task.WhenAll(
                pipeline.IngressHttp.SendAsync(LiveKitTestSigner.SignedRequest(body, apiKey, apiSecret)),
                pipeline.IngressHttp.SendAsync(LiveKitTestSigner.SignedRequest(body, apiKey, apiSecret, "api/webhook")));
            foreach (var reply in replies)
            {
                Assert.True(reply.IsSuccessStatusCode, $"{(int)reply.StatusCode} {await reply.Content.ReadAsStringAsync()}");
            }
        }

        var final = await Eventually.WaitAsync(() => GetAsync(rooms, $"api/rooms/{name}"),
            r => r?.GetProperty("status").GetString() == "finished" && r.Value.GetProperty("eventCount").GetInt32() == events.Count,
            Deadline, "the room finished with every event applied", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => pipeline.QueueDepthAsync("rooms-livekit"), d => d == (0, 0), Deadline, "the queue drained", pipeline.Diagnostics);
        var r = final!.Value;
        output.WriteLine(r.ToString());

        Assert.Equal(name, r.GetProperty("name").GetString());
        Assert.Equal(sid, r.GetProperty("sid").GetString());
        Assert.Equal(0, r.GetProperty("participants").GetInt32());
        Assert.Equal(3, r.GetProperty("peakParticipants").GetInt32());
        Assert.Equal(t0.UtcDateTime, r.GetProperty("startedAt").GetDateTime());
        Assert.Equal(t0.AddSeconds(120).UtcDateTime, r.GetProperty("finishedAt").GetDateTime());
        Assert.Equal(120, r.GetProperty("durationSeconds").GetDouble());

        var sessions = r.GetProperty("sessions").EnumerateArray().ToDictionary(s => s.GetProperty("identity").GetString()!);
        Assert.Equal(["alice", "bob", "carol"], sessions.Keys.Order());
        Assert.Equal(("room_finished", 110.0), (sessions["alice"].GetProperty("endReason").GetString(), sessions["alice"].GetProperty("durationSeconds").GetDouble()));
        Assert.Equal(("left", 40.0), (sessions["bob"].GetProperty("endReason").GetString(), sessions["bob"].GetProperty("durationSeconds").GetDouble()));
        Assert.Equal(("room_finished", 90.0), (sessions["carol"].GetProperty("endReason").GetString(), sessions["carol"].GetProperty("durationSeconds").GetDouble()));
        Assert.Equal(t0.AddSeconds(10).UtcDateTime, sessions["alice"].GetProperty("joinedAt").GetDateTime());
        Assert.Equal(t0.AddSeconds(60).UtcDateTime, sessions["bob"].GetProperty("leftAt").GetDateTime());

        var tracks = r.GetProperty("tracks").EnumerateArray().ToDictionary(t => t.GetProperty("sid").GetString()!);
        Assert.Equal(4, tracks.Count);
        Assert.Equal(("AUDIO", "MICROPHONE"), (tracks["TR_alice_mic"].GetProperty("type").GetString(), tracks["TR_alice_mic"].GetProperty("source").GetString()));
        Assert.Equal(("VIDEO", "CAMERA"), (tracks["TR_alice_cam"].GetProperty("type").GetString(), tracks["TR_alice_cam"].GetProperty("source").GetString()));
        Assert.Equal(("PA_bob", "participant_left"), (tracks["TR_bob_cam"].GetProperty("participantSid").GetString(), tracks["TR_bob_cam"].GetProperty("endReason").GetString()));
        Assert.Equal("room_finished", tracks["TR_alice_cam"].GetProperty("endReason").GetString());
        Assert.Equal("SCREEN_SHARE", tracks["TR_carol_screen"].GetProperty("source").GetString());

        // Two deliveries of each event, one receipt and one effect each.
        Assert.Equal(events.Count, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        Assert.Equal(events.Count, await pipeline.CountAsync("SELECT count(*) FROM rooms_inbox", "Rooms"));
        Assert.Equal(events.Count, await pipeline.CountAsync("SELECT count(*) FROM room_events", "Rooms"));
        Assert.Equal(3, await pipeline.CountAsync("SELECT count(*) FROM room_participant_sessions", "Rooms"));

        var finished = JsonDocument.Parse(await rooms.GetStringAsync("api/rooms?status=finished")).RootElement;
        Assert.Equal(sid, Assert.Single(finished.EnumerateArray()).GetProperty("sid").GetString());
        Assert.Equal(0, JsonDocument.Parse(await rooms.GetStringAsync("api/rooms?status=active")).RootElement.GetArrayLength());
        Assert.Equal(HttpStatusCode.BadRequest, (await rooms.GetAsync("api/rooms?status=open")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await rooms.GetAsync("api/rooms/never-seen")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await pipeline.ConsumerManagement[ConsumerService.Rooms].GetAsync("health/ready")).StatusCode);

        // The name is reused by a new room (a new sid): the name now shows the new room, the old one stays reachable by sid.
        var reusedSid = "RM_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var reopened = Body("room_started", Id(), t0.AddSeconds(200), Room(reusedSid, name, t0.AddSeconds(200)));
        Assert.True((await pipeline.IngressHttp.SendAsync(LiveKitTestSigner.SignedRequest(reopened, apiKey, apiSecret))).IsSuccessStatusCode);
        var current = await Eventually.WaitAsync(() => GetAsync(rooms, $"api/rooms/{name}"),
            x => x?.GetProperty("sid").GetString() == reusedSid, Deadline, "the reused name to show the new room", pipeline.Diagnostics);
        Assert.Equal(("active", 0), (current!.Value.GetProperty("status").GetString(), current.Value.GetProperty("sessions").GetArrayLength()));
        Assert.Equal(2, JsonDocument.Parse(await rooms.GetStringAsync($"api/rooms?name={name}")).RootElement.GetArrayLength());
        Assert.Equal("finished", (await GetAsync(rooms, $"api/rooms/sid/{sid}"))!.Value.GetProperty("status").GetString());
    }

    private static async Task<JsonElement?> GetAsync(HttpClient http, string path)
    {
        var response = await http.GetAsync(path);
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonElement>() : null;
    }
}
