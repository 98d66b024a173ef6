using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.IntegrationTests.Interop;
using static Pipeline.IntegrationTests.Rooms.LiveKitWebhooks;

namespace Pipeline.IntegrationTests.Rooms;

/// <summary>The seed guide's <c>recording_finished</c>, signed and sent to Ingress, lands in the room as an ended egress.</summary>
[Collection(PipelineCollection.Name)]
public sealed class RecordingFinishedTests(TestServices services)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Recording_finished_is_applied_to_the_room_like_egress_ended()
    {
        var apiKey = "APIrec" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var apiSecret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            Consumers = [ConsumerService.Rooms],
            SeparateDatabases = true,
            IngressEnvironment = { ["LIVEKIT_API_KEY"] = apiKey, ["LIVEKIT_API_SECRET"] = apiSecret },
        });
        var rooms = pipeline.ConsumerHttp[ConsumerService.Rooms];

        var t0 = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds());
        var name = "rec-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var sid = "RM_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        static string Nanos(DateTimeOffset at) => (at.ToUnixTimeSeconds() * 1_000_000_000L).ToString(System.Globalization.CultureInfo.InvariantCulture);

        // No status: protojson omits EGRESS_STARTING, and a sender of the old event may send none at all.
        var recordingFinished = JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["event"] = "recording_finished",
            ["id"] = "EV_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)),
            ["createdAt"] = Seconds(t0.AddSeconds(100)),
            ["room"] = Room(sid, name, t0),
            ["egressInfo"] = new Dictionary<string, object?>
            {
                ["egressId"] = "EG_rec1",
                ["roomId"] = sid,
                ["roomName"] = name,
                ["startedAt"] = Nanos(t0.AddSeconds(10)),
                ["endedAt"] = Nanos(t0.AddSeconds(95)),
                ["fileResults"] = new[] { new { filename = $"{name}.mp4", location = $"s3://recordings/{name}.mp4", duration = "85000000000" } },
            },
        });
        var bodies = new[] { Body("room_started", "EV_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)), t0, Room(sid, name, t0)), recordingFinished };
        foreach (var body in bodies)
        {
            var reply = await pipeline.IngressHttp.SendAsync(LiveKitTestSigner.SignedRequest(body, apiKey, apiSecret));
            Assert.True(reply.IsSuccessStatusCode, $"{(int)reply.StatusCode} {await reply.Content.ReadAsStringAsync()}");
        }

        var room = await Eventually.WaitAsync(async () => await rooms.GetFromJsonAsync<JsonElement>($"api/rooms/{name}"),
            r => r.GetProperty("eventCount").GetInt32() == 2, Deadline, "both events applied", pipeline.Diagnostics);

        var egress = Assert.Single(room.GetProperty("egress").EnumerateArray());
        Assert.Equal("EG_rec1", egress.GetProperty("egressId").GetString());
        Assert.Equal("complete", egress.GetProperty("status").GetString());
        Assert.Equal(t0.AddSeconds(10).UtcDateTime, egress.GetProperty("startedAt").GetDateTime());
        Assert.Equal(t0.AddSeconds(95).UtcDateTime, egress.GetProperty("endedAt").GetDateTime());
        Assert.Equal(85, egress.GetProperty("durationSeconds").GetDouble());
        Assert.Equal($"s3://recordings/{name}.mp4", Assert.Single(egress.GetProperty("locations").EnumerateArray()).GetString());
        Assert.Equal("active", room.GetProperty("status").GetString());
    }
}
