using System.Security.Cryptography;
using System.Text;
using Pipeline.Ingress.Providers.LiveKit;
using Pipeline.Messages.Rooms;

namespace Pipeline.UnitTests.Providers.LiveKit;

public class LiveKitEventNormalizerTests
{
    private static readonly Guid ReceiptId = Guid.Parse("6a1f1f5e-0000-4000-8000-00000000000b");
    private static readonly DateTimeOffset ReceivedAt = new(2026, 2, 17, 18, 0, 0, TimeSpan.Zero);

    private static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);

    private static LiveKitEventV1 NormalizeOk(string json)
    {
        var result = LiveKitEventNormalizer.Normalize(Bytes(json), ReceiptId, ReceivedAt);
        Assert.True(result.IsValid, result.Error);
        Assert.Null(result.Error);
        Assert.Equal(result.Value!.EventId, result.DedupKey);
        Assert.Equal(ReceiptId, result.Value.ReceiptId);
        return result.Value;
    }

    private static string Malformed(string json) => Malformed(Bytes(json));

    private static string Malformed(byte[] body)
    {
        var result = LiveKitEventNormalizer.Normalize(body, ReceiptId, ReceivedAt);
        Assert.False(result.IsValid);
        Assert.Null(result.Value);
        return result.Error!;
    }

    [Fact]
    public void Room_started_in_protojson()
    {
        var message = NormalizeOk(
            """{"event":"room_started","room":{"sid":"RM_hycBMAjmt6Ub","name":"demo","emptyTimeout":300,"departureTimeout":20,"creationTime":"1771351907","creationTimeMs":"1771351907123","turnPassword":"x","enabledCodecs":[{"mime":"audio/opus"}],"maxParticipants":10,"metadata":"{\"plan\":\"pro\"}"},"id":"EV_3x5XdPaHgE8M","createdAt":"1771351908"}""");

        Assert.Equal("EV_3x5XdPaHgE8M", message.EventId);
        Assert.Equal("room_started", message.Event);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1771351908), message.CreatedAt);
        var room = Assert.IsType<LiveKitRoomV1>(message.Room);
        Assert.Equal("RM_hycBMAjmt6Ub", room.Sid);
        Assert.Equal("demo", room.Name);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1771351907), room.CreationTime);
        Assert.Equal(300, room.EmptyTimeout);
        Assert.Equal(10, room.MaxParticipants);
        Assert.Null(room.NumParticipants);
        Assert.Equal("""{"plan":"pro"}""", room.Metadata);
        Assert.Null(message.Participant);
        Assert.Null(message.Track);
        Assert.Null(message.Egress);
        Assert.Null(message.Ingress);
        Assert.Equal("room_started in room demo", LiveKitEventNormalizer.Describe(message));
    }

    [Fact]
    public void Documented_vector_body_normalizes_with_a_body_hash_key()
    {
        const string body =
            """{"event":"room_started", "room":{"sid":"RM_TkVjUvAqgzKz", "name":"mytestroom", "emptyTimeout":300, "creationTime":"1628545903", "turnPassword":"ICkSr2rEeslkN6e9bXL4Ji5zzMD5Z7zzr6ulOaxMj6N", "enabledCodecs":[{"mime":"audio/opus"}, {"mime":"video/VP8"}]}}""";

        var message = NormalizeOk(body);

        // No id and no createdAt: the key is the body's hash and the time is the receipt's.
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Bytes(body))), message.EventId);
        Assert.Equal(ReceivedAt, message.CreatedAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1628545903), message.Room!.CreationTime);
    }

    [Fact]
    public void Participant_joined_takes_joined_at_ms_when_present_and_defaults_omitted_enums()
    {
        var message = NormalizeOk(
            """{"event":"participant_joined","room":{"sid":"RM_1","name":"demo","numParticipants":2},"participant":{"sid":"PA_abc","identity":"alice","name":"Alice","state":"ACTIVE","joinedAt":"1771351910","joinedAtMs":"1771351910456","permission":{"canSubscribe":true},"isPublisher":true},"id":"EV_pj","createdAt":"1771351911"}""");

        var participant = Assert.IsType<LiveKitParticipantV1>(message.Participant);
        Assert.Equal("PA_abc", participant.Sid);
        Assert.Equal("alice", participant.Identity);
        Assert.Equal("Alice", participant.Name);
        Assert.Equal("ACTIVE", participant.State);
        Assert.Equal("STANDARD", participant.Kind); // omitted: proto3 zero value
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1771351910456), participant.JoinedAt);
        Assert.Equal(2, message.Room!.NumParticipants);
        Assert.Equal("participant_joined alice in room demo", LiveKitEventNormalizer.Describe(message));
    }

    [Fact]
    public void Participant_joined_at_is_seconds_without_ms()
    {
        var message = NormalizeOk(
            """{"event":"participant_left","participant":{"sid":"PA_abc","identity":"bob","state":"DISCONNECTED","joinedAt":"1771351910","kind":"AGENT"},"id":"EV_pl"}""");

        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1771351910), message.Participant!.JoinedAt);
        Assert.Equal("DISCONNECTED", message.Participant.State);
        Assert.Equal("AGENT", message.Participant.Kind);
        Assert.Equal("JOINING", NormalizeOk("""{"event":"participant_joined","participant":{"sid":"PA_x","identity":"x"}}""").Participant!.State);
    }

    [Fact]
    public void Track_published_with_video_track()
    {
        var message = NormalizeOk(
            """{"event":"track_published","room":{"sid":"RM_1","name":"demo"},"participant":{"sid":"PA_abc","identity":"alice"},"track":{"sid":"TR_VCk","type":"VIDEO","name":"camera","width":1280,"height":720,"source":"CAMERA","mimeType":"video/VP8","mid":"1"},"id":"EV_tp","createdAt":"1771351912"}""");

        var track = Assert.IsType<LiveKitTrackV1>(message.Track);
        Assert.Equal("TR_VCk", track.Sid);
        Assert.Equal("VIDEO", track.Type);
        Assert.Equal("CAMERA", track.Source);
        Assert.Equal("camera", track.Name);
        Assert.Equal("video/VP8", track.MimeType);
        Assert.Equal("alice", message.Participant!.Identity);
    }

    [Fact]
    public void Audio_track_type_is_omitted_by_protojson_and_means_audio()
    {
        var message = NormalizeOk(
            """{"event":"track_published","track":{"sid":"TR_AM","source":"MICROPHONE","mimeType":"audio/red"},"id":"EV_ta"}""");

        Assert.Equal("AUDIO", message.Track!.Type);
        Assert.Equal("MICROPHONE", message.Track.Source);
    }

    [Fact]
    public void Egress_ended_with_file_results_in_nanoseconds()
    {
        var message = NormalizeOk(
            """{"event":"egress_ended","egressInfo":{"egressId":"EG_yjdzQXGwWfrA","roomId":"RM_1","roomName":"demo","status":"EGRESS_COMPLETE","startedAt":"1771351920123456789","endedAt":"1771352020987654321","updatedAt":"1771352021000000000","roomComposite":{"roomName":"demo","layout":"speaker"},"file":{"filename":"demo.mp4","startedAt":"1771351920123456789","endedAt":"1771352020987654321","duration":"100864197532","size":"1048576","location":"https://bucket.s3.amazonaws.com/demo.mp4"},"fileResults":[{"filename":"demo.mp4","startedAt":"1771351920123456789","endedAt":"1771352020987654321","duration":"100864197532","size":"1048576","location":"https://bucket.s3.amazonaws.com/demo.mp4"},{"filename":"local/demo-2.ogg"}]},"id":"EV_ee","createdAt":"1771352021"}""");

        var egress = Assert.IsType<LiveKitEgressV1>(message.Egress);
        Assert.Equal("EG_yjdzQXGwWfrA", egress.EgressId);
        Assert.Equal("RM_1", egress.RoomId);
        Assert.Equal("demo", egress.RoomName);
        Assert.Equal("EGRESS_COMPLETE", egress.Status);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddTicks(17713519201234567), egress.StartedAt);
        Assert.Equal(DateTimeOffset.UnixEpoch.AddTicks(17713520209876543), egress.EndedAt);
        Assert.Equal(2026, egress.StartedAt!.Value.Year); // read as seconds it would be far past year 9999
        Assert.Null(egress.Error);
        // The deprecated single result repeats the first file result: listed once.
        Assert.Equal(["https://bucket.s3.amazonaws.com/demo.mp4", "local/demo-2.ogg"], egress.Locations);
        Assert.Equal("egress_ended EG_yjdzQXGwWfrA in room demo", LiveKitEventNormalizer.Describe(message));
    }

    [Fact]
    public void Egress_locations_from_segments_streams_and_deprecated_results()
    {
        var message = NormalizeOk(
            """{"event":"egress_ended","egressInfo":{"egressId":"EG_2","status":"EGRESS_FAILED","error":"upload failed","startedAt":"1771351920000000000","segmentResults":[{"playlistName":"live.m3u8","playlistLocation":"s3://b/live.m3u8","livePlaylistLocation":"s3://b/live-now.m3u8","segmentCount":"12"}],"streamResults":[{"url":"rtmp://a.example/live/key1","status":"FINISHED"}],"segments":{"playlistName":"old.m3u8"},"stream":{"info":[{"url":"rtmp://b.example/live/key2"},{"url":"rtmp://a.example/live/key1"}]}}}""");

        var egress = message.Egress!;
        Assert.Equal("EGRESS_FAILED", egress.Status);
        Assert.Equal("upload failed", egress.Error);
        Assert.Null(egress.EndedAt);
        Assert.Equal(
            ["s3://b/live.m3u8", "s3://b/live-now.m3u8", "rtmp://a.example/live/key1", "old.m3u8", "rtmp://b.example/live/key2"],
            egress.Locations);
    }

    [Fact]
    public void Egress_started_has_the_zero_status_and_no_locations()
    {
        var message = NormalizeOk("""{"event":"egress_started","egressInfo":{"egressId":"EG_3","roomName":"demo","startedAt":"1771351920000000000"},"id":"EV_es"}""");

        Assert.Equal("EGRESS_STARTING", message.Egress!.Status);
        Assert.Null(message.Egress.Locations);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1771351920), message.Egress.StartedAt);
    }

    [Fact]
    public void Ingress_started_with_state()
    {
        var message = NormalizeOk(
            """{"event":"ingress_started","ingressInfo":{"ingressId":"IN_x","name":"obs","streamKey":"k","url":"rtmp://in","inputType":"RTMP_INPUT","roomName":"demo","participantIdentity":"obs","state":{"status":"ENDPOINT_PUBLISHING","startedAt":"1771351920000000000"}},"id":"EV_is"}""");

        var ingress = Assert.IsType<LiveKitIngressV1>(message.Ingress);
        Assert.Equal("IN_x", ingress.IngressId);
        Assert.Equal("obs", ingress.Name);
        Assert.Equal("demo", ingress.RoomName);
        Assert.Equal("ENDPOINT_PUBLISHING", ingress.Status);
        Assert.Equal("ENDPOINT_INACTIVE", NormalizeOk("""{"event":"ingress_ended","ingressInfo":{"ingressId":"IN_y","state":{}}}""").Ingress!.Status);
        Assert.Null(NormalizeOk("""{"event":"ingress_ended","ingressInfo":{"ingressId":"IN_y"}}""").Ingress!.Status);
    }

    [Theory]
    [InlineData("room_finished")]
    [InlineData("participant_connection_aborted")]
    [InlineData("track_unpublished")]
    [InlineData("egress_updated")]
    [InlineData("agent_job_started")]
    [InlineData("agent_job_ended")]
    [InlineData("something_new_from_livekit")]
    public void Every_event_name_passes_through(string eventName)
    {
        var message = NormalizeOk($$$"""{"event":"{{{eventName}}}","id":"EV_{{{eventName}}}","createdAt":"1771351907","newTopLevelField":{"x":1}}""");

        Assert.Equal(eventName, message.Event);
        Assert.Equal("EV_" + eventName, message.EventId);
    }

    [Fact]
    public void Int64_as_numbers_and_enums_as_numbers()
    {
        var message = NormalizeOk(
            """{"event":"egress_ended","createdAt":1771351907,"room":{"sid":"RM_1","name":"demo","creationTime":1771351900,"emptyTimeout":"300"},"participant":{"sid":"PA_1","identity":"a","state":2,"kind":7,"joinedAt":1771351901},"track":{"sid":"TR_1","type":1,"source":3},"egressInfo":{"egressId":"EG_1","status":3,"startedAt":1771351920000000000,"endedAt":1771351930000000000},"id":"EV_n"}""");

        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1771351907), message.CreatedAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1771351900), message.Room!.CreationTime);
        Assert.Equal(300, message.Room.EmptyTimeout);
        Assert.Equal("ACTIVE", message.Participant!.State);
        Assert.Equal("CONNECTOR", message.Participant.Kind);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1771351901), message.Participant.JoinedAt);
        Assert.Equal("VIDEO", message.Track!.Type);
        Assert.Equal("SCREEN_SHARE", message.Track.Source);
        Assert.Equal("EGRESS_COMPLETE", message.Egress!.Status);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1771351930), message.Egress.EndedAt);
        Assert.Equal("42", NormalizeOk("""{"event":"x","egressInfo":{"egressId":"EG","status":42}}""").Egress!.Status);
    }

    [Fact]
    public void Snake_case_names_as_in_the_seed()
    {
        var message = NormalizeOk(
            """{"event": "room_started", "creation_time": 1234567890, "room": {"sid": "RM_xxx", "name": "my-room", "emptyTimeout": 300, "maxParticipants": 100, "creationTime": 1234567890}}""");

        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1234567890), message.CreatedAt);
        Assert.Equal(100, message.Room!.MaxParticipants);

        var snake = NormalizeOk(
            """{"event":"egress_ended","created_at":"1771351907","egress_info":{"egress_id":"EG_s","room_name":"demo","started_at":"1771351920000000000","file_results":[{"location":"s3://b/f.mp4"}]},"participant":{"sid":"PA","identity":"i","joined_at_ms":"1771351901000"}}""");
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1771351907), snake.CreatedAt);
        Assert.Equal("EG_s", snake.Egress!.EgressId);
        Assert.Equal(["s3://b/f.mp4"], snake.Egress.Locations);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1771351901), snake.Participant!.JoinedAt);

        // Both names sent: the JSON name wins, whichever comes first.
        Assert.Equal("EG_json", NormalizeOk("""{"event":"x","egressInfo":{"egress_id":"EG_proto","egressId":"EG_json"}}""").Egress!.EgressId);
        Assert.Equal("EG_json", NormalizeOk("""{"event":"x","egressInfo":{"egressId":"EG_json","egress_id":"EG_proto"}}""").Egress!.EgressId);
    }

    [Fact]
    public void Zero_timestamps_mean_unset()
    {
        var message = NormalizeOk("""{"event":"egress_updated","createdAt":"0","egressInfo":{"egressId":"EG","startedAt":"0","endedAt":0}}""");

        Assert.Equal(ReceivedAt, message.CreatedAt);
        Assert.Null(message.Egress!.StartedAt);
        Assert.Null(message.Egress.EndedAt);
    }

    [Fact]
    public void Same_body_without_id_gets_the_same_key_and_different_bodies_different_keys()
    {
        var a = NormalizeOk("""{"event":"room_finished","room":{"sid":"RM_1","name":"a"}}""");
        var again = NormalizeOk("""{"event":"room_finished","room":{"sid":"RM_1","name":"a"}}""");
        var b = NormalizeOk("""{"event":"room_finished","room":{"sid":"RM_1","name":"b"}}""");

        Assert.StartsWith("sha256:", a.EventId);
        Assert.Equal(a.EventId, again.EventId);
        Assert.NotEqual(a.EventId, b.EventId);
    }

    [Theory]
    [InlineData("not json", "invalid json")]
    [InlineData("{\"event\":\"room_started\"", "invalid json")]
    [InlineData("{\"event\":\"room_started\"} trailing", "invalid json")]
    [InlineData("[{\"event\":\"room_started\"}]", "body is not a json object")]
    [InlineData("\"room_started\"", "body is not a json object")]
    [InlineData("null", "body is not a json object")]
    [InlineData("{}", "missing event")]
    [InlineData("{\"event\":\"\"}", "missing event")]
    [InlineData("{\"id\":\"EV_1\",\"room\":{\"sid\":\"RM\"}}", "missing event")]
    [InlineData("{\"event\":42}", "event must be a string")]
    [InlineData("{\"event\":\"x\",\"id\":7}", "id must be a string")]
    [InlineData("{\"event\":\"x\",\"room\":[]}", "room must be an object")]
    [InlineData("{\"event\":\"x\",\"createdAt\":\"yesterday\"}", "createdAt must be an integer")]
    [InlineData("{\"event\":\"x\",\"createdAt\":1.5}", "createdAt must be an integer")]
    [InlineData("{\"event\":\"x\",\"createdAt\":\"-5\"}", "createdAt out of range")]
    [InlineData("{\"event\":\"x\",\"createdAt\":\"99999999999999\"}", "createdAt out of range")]
    [InlineData("{\"event\":\"x\",\"room\":{\"emptyTimeout\":\"9999999999\"}}", "emptyTimeout out of range")]
    [InlineData("{\"event\":\"x\",\"egressInfo\":{\"fileResults\":{}}}", "fileResults must be an array")]
    [InlineData("{\"event\":\"x\",\"egressInfo\":{\"fileResults\":[\"a\"]}}", "fileResults must hold objects")]
    [InlineData("{\"event\":\"x\",\"egressInfo\":{\"fileResults\":[{\"location\":1}]}}", "location must be a string")]
    [InlineData("{\"event\":\"x\",\"egress_info\":{\"file_results\":[\"a\"]}}", "file_results must hold objects")]
    [InlineData("{\"event\":\"x\",\"room\":{\"empty_timeout\":\"9999999999\"}}", "empty_timeout out of range")]
    [InlineData("{\"event\":\"x\",\"egressInfo\":{\"status\":true}}", "status must be an enum name or number")]
    [InlineData("{\"event\":\"x\",\"egressInfo\":{\"startedAt\":\"-1\"}}", "startedAt out of range")]
    [InlineData("{\"event\":\"x\",\"ingressInfo\":{\"state\":\"on\"}}", "state must be an object")]
    [InlineData("{\"event\":\"x\",\"room\":{\"name\":\"\\ud800\"}}", "invalid json string")]
    public void Malformed_bodies_say_why(string json, string error)
    {
        Assert.Equal(error, Malformed(json));
    }

    [Fact]
    public void Empty_and_invalid_utf8_bodies_are_malformed()
    {
        Assert.Equal("empty body", Malformed([]));
        Assert.Equal("invalid utf-8", Malformed([(byte)'{', 0xC3, 0x28, (byte)'}']));
    }

    [Fact]
    public void Byte_order_mark_is_tolerated()
    {
        var body = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Bytes("""{"event":"room_started","id":"EV_bom"}""")).ToArray();

        var result = LiveKitEventNormalizer.Normalize(body, ReceiptId, ReceivedAt);

        Assert.True(result.IsValid, result.Error);
        Assert.Equal("EV_bom", result.DedupKey);
    }

    [Fact]
    public void Deeply_nested_body_is_malformed_not_a_crash()
    {
        var json = "{\"event\":\"x\",\"a\":" + new string('[', 200) + new string(']', 200) + "}";

        Assert.Equal("invalid json", Malformed(json));
    }

    [Theory]
    [InlineData("""{"event":"room_started","room":{"sid":"{0}","name":"r"}}""", "room.sid")]
    [InlineData("""{"event":"participant_joined","room":{"sid":"RM_1"},"participant":{"sid":"{0}","identity":"a"}}""", "participant.sid")]
    [InlineData("""{"event":"track_published","room":{"sid":"RM_1"},"track":{"sid":"{0}"}}""", "track.sid")]
    [InlineData("""{"event":"egress_started","egressInfo":{"egressId":"{0}","roomId":"RM_1"}}""", "egressInfo.egressId")]
    [InlineData("""{"event":"egress_started","egressInfo":{"egressId":"EG_1","roomId":"{0}"}}""", "egressInfo.roomId")]
    public void A_sid_longer_than_the_rooms_tables_store_is_malformed(string template, string name)
    {
        var limit = Pipeline.Persistence.ColumnLengths.RoomSid;

        NormalizeOk(template.Replace("{0}", new string('s', limit), StringComparison.Ordinal));
        Assert.Equal($"{name} is longer than {limit} characters", Malformed(template.Replace("{0}", new string('s', limit + 1), StringComparison.Ordinal)));
    }

    [Fact]
    public void An_egress_status_longer_than_its_column_is_malformed()
    {
        var status = "EGRESS_" + new string('X', Pipeline.Persistence.ColumnLengths.EgressStatus);

        Assert.Equal($"egressInfo.status is longer than {Pipeline.Persistence.ColumnLengths.EgressStatus} characters",
            Malformed($$$"""{"event":"egress_updated","egressInfo":{"egressId":"EG_1","roomId":"RM_1","status":"{{{status}}}"}}"""));
    }

    [Fact]
    public void An_event_id_longer_than_the_rooms_ledger_stores_is_keyed_by_its_hash()
    {
        var limit = Pipeline.Persistence.ColumnLengths.RoomSid;
        var longId = "EV_" + new string('x', limit);

        Assert.Equal("EV_" + new string('x', limit - 3), NormalizeOk($$"""{"event":"room_started","id":"EV_{{new string('x', limit - 3)}}"}""").EventId);
        var message = NormalizeOk($$"""{"event":"room_started","id":"{{longId}}"}""");

        Assert.Equal("id-sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(longId))), message.EventId);
        Assert.True(message.EventId.Length <= limit);
    }
}
