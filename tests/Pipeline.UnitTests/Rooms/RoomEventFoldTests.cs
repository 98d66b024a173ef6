using System.Text.Json;
using Pipeline.Consumers.Rooms;
using Pipeline.Messages.Rooms;
using Pipeline.Persistence.Rooms;

namespace Pipeline.UnitTests.Rooms;

public class RoomEventFoldTests
{
    private const string RoomSid = "RM_TkVjUvAqgzKz";
    private const string RoomName = "standup";

    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTime Now = new(2026, 3, 3, 12, 0, 0, DateTimeKind.Utc);

    private static DateTimeOffset At(int seconds) => T0.AddSeconds(seconds);

    private static DateTime Utc(int seconds) => At(seconds).UtcDateTime;

    private static int _ids;

    private static LiveKitEventV1 Event(string name, int seconds, LiveKitParticipantV1? participant = null, LiveKitTrackV1? track = null,
        LiveKitEgressV1? egress = null, bool withRoom = true) => new()
        {
            EventId = $"EV_{name}_{seconds}_{Interlocked.Increment(ref _ids)}",
            Event = name,
            CreatedAt = At(seconds),
            Room = withRoom ? new LiveKitRoomV1 { Sid = RoomSid, Name = RoomName, CreationTime = T0, EmptyTimeout = 300 } : null,
            Participant = participant,
            Track = track,
            Egress = egress,
            ReceiptId = Guid.Parse("6a1f1f5e-0000-4000-8000-0000000000bb"),
        };

    private static LiveKitParticipantV1 Participant(string identity, int? joinedAt = null) => new()
    {
        Sid = "PA_" + identity,
        Identity = identity,
        Name = identity.ToUpperInvariant(),
        JoinedAt = joinedAt is { } j ? At(j) : null,
    };

    private static LiveKitTrackV1 Track(string sid, string type, string source) =>
        new() { Sid = sid, Type = type, Source = source, MimeType = type == "AUDIO" ? "audio/opus" : "video/VP8" };

    private static LiveKitEgressV1 Egress(string? status, int? startedAt = null, int? endedAt = null, string? error = null, params string[] locations) => new()
    {
        EgressId = "EG_rec1",
        RoomId = RoomSid,
        RoomName = RoomName,
        Status = status,
        StartedAt = startedAt is { } s ? At(s) : null,
        EndedAt = endedAt is { } e ? At(e) : null,
        Error = error,
        Locations = locations.Length == 0 ? null : locations,
    };

    /// <summary>
    /// A whole meeting: alice, bob and carol join, publish, bob leaves, a recording runs, the room finishes with
    /// alice and carol still in it.
    /// </summary>
    private static List<LiveKitEventV1> Meeting() =>
    [
        Event(LiveKitEventNames.RoomStarted, 0),
        Event(LiveKitEventNames.ParticipantJoined, 10, Participant("alice", 10)),
        Event(LiveKitEventNames.ParticipantJoined, 20, Participant("bob", 20)),
        Event(LiveKitEventNames.TrackPublished, 21, Participant("alice", 10), Track("TR_alice_mic", "AUDIO", "MICROPHONE")),
        Event(LiveKitEventNames.TrackPublished, 22, Participant("bob", 20), Track("TR_bob_cam", "VIDEO", "CAMERA")),
        Event(LiveKitEventNames.EgressStarted, 25, egress: Egress(null, startedAt: 25), withRoom: false),
        Event(LiveKitEventNames.ParticipantJoined, 30, Participant("carol", 30)),
        Event(LiveKitEventNames.EgressUpdated, 35, egress: Egress("EGRESS_ACTIVE", startedAt: 25), withRoom: false),
        Event(LiveKitEventNames.TrackUnpublished, 50, Participant("alice", 10), Track("TR_alice_mic", "AUDIO", "MICROPHONE")),
        Event(LiveKitEventNames.ParticipantLeft, 60, Participant("bob", 20)),
        Event(LiveKitEventNames.EgressEnded, 95, egress: Egress("EGRESS_COMPLETE", 25, 95, null, "s3://rec/standup.mp4"), withRoom: false),
        Event(LiveKitEventNames.RoomFinished, 100),
    ];

    private static RoomAggregate Run(IEnumerable<LiveKitEventV1> events)
    {
        RoomAggregate? room = null;
        foreach (var e in events)
        {
            room = RoomEventFold.Apply(room, e, Now);
        }

        return room!;
    }

    /// <summary>Every persisted field of the room and everything under it, in key order, so two outcomes compare as a whole.</summary>
    private static string Snapshot(RoomAggregate a) => JsonSerializer.Serialize(new
    {
        a.Room.Sid, a.Room.Name, a.Room.Status, a.Room.StartedAt, a.Room.FinishedAt, a.Room.FirstEventAt, a.Room.LastEventAt,
        a.Room.CurrentParticipants, a.Room.PeakParticipants, a.Room.UpdatedAt,
        Sessions = a.Sessions.OrderBy(s => s.ParticipantSid, StringComparer.Ordinal),
        Tracks = a.Tracks.OrderBy(t => t.TrackSid, StringComparer.Ordinal),
        Egress = a.Egress.OrderBy(g => g.EgressId, StringComparer.Ordinal),
    });

    private static ParticipantSession SessionOf(RoomAggregate a, string identity) => Assert.Single(a.Sessions, s => s.Identity == identity);

    [Fact]
    public void A_whole_meeting_in_order()
    {
        var room = Run(Meeting());

        Assert.Equal(RoomSid, room.Room.Sid);
        Assert.Equal(RoomName, room.Room.Name);
        Assert.Equal(RoomStatuses.Finished, room.Room.Status);
        Assert.Equal(Utc(0), room.Room.StartedAt);
        Assert.Equal(Utc(100), room.Room.FinishedAt);
        Assert.Equal(Utc(100), room.Room.LastEventAt);
        Assert.Equal(3, room.Room.PeakParticipants);
        Assert.Equal(0, room.Room.CurrentParticipants);
        Assert.Equal(Now, room.Room.UpdatedAt);

        Assert.Equal(3, room.Sessions.Count);
        var alice = SessionOf(room, "alice");
        Assert.Equal(("PA_alice", "ALICE", Utc(10), Utc(100), 90.0, SessionEndReasons.RoomFinished),
            (alice.ParticipantSid, alice.Name, alice.JoinedAt, alice.LeftAt, alice.DurationSeconds, alice.EndReason));
        var bob = SessionOf(room, "bob");
        Assert.Equal((Utc(20), Utc(60), 40.0, SessionEndReasons.Left), (bob.JoinedAt, bob.LeftAt, bob.DurationSeconds, bob.EndReason));
        var carol = SessionOf(room, "carol");
        Assert.Equal((Utc(30), Utc(100), 70.0, SessionEndReasons.RoomFinished), (carol.JoinedAt, carol.LeftAt, carol.DurationSeconds, carol.EndReason));

        var mic = Assert.Single(room.Tracks, t => t.TrackSid == "TR_alice_mic");
        Assert.Equal(("PA_alice", "AUDIO", "MICROPHONE", "audio/opus", Utc(21), Utc(50), TrackEndReasons.Unpublished),
            (mic.ParticipantSid, mic.Type, mic.Source, mic.MimeType, mic.PublishedAt, mic.UnpublishedAt, mic.EndReason));
        var cam = Assert.Single(room.Tracks, t => t.TrackSid == "TR_bob_cam");
        Assert.Equal(("PA_bob", "VIDEO", "CAMERA", Utc(22), Utc(60), TrackEndReasons.ParticipantLeft),
            (cam.ParticipantSid, cam.Type, cam.Source, cam.PublishedAt, cam.UnpublishedAt, cam.EndReason));

        var egress = Assert.Single(room.Egress);
        Assert.Equal(("EG_rec1", RoomSid, RoomName, "complete", Utc(25), Utc(95), (string?)null),
            (egress.EgressId, egress.RoomSid, egress.RoomName, egress.Status, egress.StartedAt, egress.EndedAt, egress.Error));
        Assert.Equal("""["s3://rec/standup.mp4"]""", egress.Locations);
    }

    [Fact]
    public void While_the_meeting_runs_the_open_sessions_are_the_current_participants()
    {
        var events = Meeting();
        var room = Run(events.Take(7)); // up to carol's join

        Assert.Equal(RoomStatuses.Active, room.Room.Status);
        Assert.Equal(3, room.Room.CurrentParticipants);
        Assert.Equal(3, room.Room.PeakParticipants);
        Assert.All(room.Sessions, s => Assert.Null(s.LeftAt));
        Assert.All(room.Sessions, s => Assert.Null(s.DurationSeconds));
        Assert.Equal("starting", Assert.Single(room.Egress).Status);

        room = Run(events.Take(10)); // bob has left
        Assert.Equal(2, room.Room.CurrentParticipants);
        Assert.Equal(3, room.Room.PeakParticipants);
        var cam = Assert.Single(room.Tracks, t => t.TrackSid == "TR_bob_cam");
        Assert.Equal((Utc(60), TrackEndReasons.ParticipantLeft), (cam.UnpublishedAt, cam.EndReason));
        var mic = Assert.Single(room.Tracks, t => t.TrackSid == "TR_alice_mic");
        Assert.Equal((Utc(50), TrackEndReasons.Unpublished), (mic.UnpublishedAt, mic.EndReason));
    }

    [Fact]
    public void The_same_events_in_any_order_give_the_same_final_state()
    {
        var events = Meeting();
        var expected = Snapshot(Run(events));
        var random = new Random(20260302);

        var orders = new List<List<LiveKitEventV1>> { Enumerable.Reverse(events).ToList() };
        for (var i = 0; i < 200; i++)
        {
            orders.Add([.. events.OrderBy(_ => random.Next())]);
        }

        foreach (var order in orders)
        {
            Assert.Equal(expected, Snapshot(Run(order)));
        }
    }

    [Fact]
    public void Duplicates_in_any_order_change_nothing()
    {
        var events = Meeting();
        var expected = Snapshot(Run(events));
        var random = new Random(7);

        for (var i = 0; i < 100; i++)
        {
            // Every event two or three times, as several LiveKit nodes (and a slip that let one through) would send it.
            var delivered = events.Concat(events).Concat(events.Where(_ => random.Next(2) == 0)).OrderBy(_ => random.Next()).ToList();
            var room = Run(delivered);

            Assert.Equal(expected, Snapshot(room));
            Assert.Equal(3, room.Room.PeakParticipants);
            Assert.Equal(3, room.Sessions.Count);
        }
    }

    [Fact]
    public void A_repeated_join_while_present_does_not_raise_the_count_or_the_peak()
    {
        var join = Event(LiveKitEventNames.ParticipantJoined, 10, Participant("alice", 10));
        var room = Run([Event(LiveKitEventNames.RoomStarted, 0), join, join, join]);

        Assert.Equal(1, room.Room.CurrentParticipants);
        Assert.Equal(1, room.Room.PeakParticipants);
        Assert.Single(room.Sessions);
    }

    [Fact]
    public void Connection_aborted_ends_a_session()
    {
        var room = Run(
        [
            Event(LiveKitEventNames.RoomStarted, 0),
            Event(LiveKitEventNames.ParticipantJoined, 10, Participant("alice", 10)),
            Event(LiveKitEventNames.ParticipantJoined, 12, Participant("dave", 12)),
            Event(LiveKitEventNames.ParticipantConnectionAborted, 40, Participant("dave", 12)),
        ]);

        var dave = SessionOf(room, "dave");
        Assert.Equal((Utc(40), 28.0, SessionEndReasons.ConnectionAborted), (dave.LeftAt, dave.DurationSeconds, dave.EndReason));
        Assert.Equal(1, room.Room.CurrentParticipants);
        Assert.Equal(2, room.Room.PeakParticipants);

        // The room finishing later does not overwrite how dave's session ended.
        room = RoomEventFold.Apply(room, Event(LiveKitEventNames.RoomFinished, 90), Now);
        Assert.Equal(SessionEndReasons.ConnectionAborted, SessionOf(room, "dave").EndReason);
        Assert.Equal(SessionEndReasons.RoomFinished, SessionOf(room, "alice").EndReason);
    }

    [Fact]
    public void Connection_aborted_without_a_join_is_a_closed_session_never_counted_as_present()
    {
        // LiveKit sends participant_connection_aborted for a participant that never became active (no participant_joined).
        var room = Run(
        [
            Event(LiveKitEventNames.RoomStarted, 0),
            Event(LiveKitEventNames.ParticipantConnectionAborted, 15, Participant("eve", 14)),
        ]);

        var eve = SessionOf(room, "eve");
        Assert.Equal((Utc(14), Utc(15), 1.0, SessionEndReasons.ConnectionAborted), (eve.JoinedAt, eve.LeftAt, eve.DurationSeconds, eve.EndReason));
        Assert.Equal(0, room.Room.CurrentParticipants);
    }

    [Fact]
    public void Left_and_connection_aborted_for_one_session_end_it_as_aborted_at_the_earlier_time_in_either_order()
    {
        var join = Event(LiveKitEventNames.ParticipantJoined, 10, Participant("alice", 10));
        var aborted = Event(LiveKitEventNames.ParticipantConnectionAborted, 30, Participant("alice", 10));
        var left = Event(LiveKitEventNames.ParticipantLeft, 31, Participant("alice", 10));

        foreach (var order in new[] { new[] { join, aborted, left }, [join, left, aborted], [left, aborted, join] })
        {
            var alice = SessionOf(Run(order), "alice");
            Assert.Equal((Utc(30), SessionEndReasons.ConnectionAborted), (alice.LeftAt, alice.EndReason));
        }
    }

    [Fact]
    public void Participant_left_before_participant_joined_is_a_closed_session()
    {
        var room = Run(
        [
            Event(LiveKitEventNames.ParticipantLeft, 60, Participant("bob", 20)),
            Event(LiveKitEventNames.ParticipantJoined, 20, Participant("bob", 20)),
        ]);

        var bob = SessionOf(room, "bob");
        Assert.Equal((Utc(20), Utc(60), 40.0, SessionEndReasons.Left), (bob.JoinedAt, bob.LeftAt, bob.DurationSeconds, bob.EndReason));
        Assert.Equal(0, room.Room.CurrentParticipants);
        Assert.Equal(1, room.Room.PeakParticipants);
        Assert.Equal(RoomStatuses.Active, room.Room.Status);
    }

    [Fact]
    public void A_leave_without_a_known_join_time_is_closed_and_not_in_the_peak_until_the_join_arrives()
    {
        var left = Event(LiveKitEventNames.ParticipantLeft, 60, Participant("bob"));
        var room = Run([left]);

        var bob = SessionOf(room, "bob");
        Assert.Equal((null, Utc(60), null, SessionEndReasons.Left), (bob.JoinedAt, bob.LeftAt, bob.DurationSeconds, bob.EndReason));
        Assert.Equal(0, room.Room.PeakParticipants);

        room = RoomEventFold.Apply(room, Event(LiveKitEventNames.ParticipantJoined, 20, Participant("bob")), Now);
        Assert.Equal(40.0, SessionOf(room, "bob").DurationSeconds);
        Assert.Equal(1, room.Room.PeakParticipants);
        Assert.Equal(0, room.Room.CurrentParticipants);
    }

    [Fact]
    public void Track_unpublished_before_track_published_is_an_unpublished_track()
    {
        var p = Participant("alice", 10);
        var room = Run(
        [
            Event(LiveKitEventNames.ParticipantJoined, 10, p),
            Event(LiveKitEventNames.TrackUnpublished, 50, p, Track("TR_x", "VIDEO", "SCREEN_SHARE")),
            Event(LiveKitEventNames.TrackPublished, 20, p, Track("TR_x", "VIDEO", "SCREEN_SHARE")),
        ]);

        var track = Assert.Single(room.Tracks);
        Assert.Equal((Utc(20), Utc(50), TrackEndReasons.Unpublished, "SCREEN_SHARE"), (track.PublishedAt, track.UnpublishedAt, track.EndReason, track.Source));
    }

    [Fact]
    public void A_late_participant_joined_after_room_finished_neither_reopens_the_room_nor_counts_a_ghost()
    {
        var room = Run(
        [
            Event(LiveKitEventNames.RoomStarted, 0),
            Event(LiveKitEventNames.ParticipantJoined, 10, Participant("alice", 10)),
            Event(LiveKitEventNames.RoomFinished, 100),
            // Delivered after the finish, stamped before it: a real session that the finish closed.
            Event(LiveKitEventNames.ParticipantJoined, 50, Participant("bob", 50)),
            // Stamped after the finish: a ghost.
            Event(LiveKitEventNames.ParticipantJoined, 130, Participant("mallory", 130)),
            Event(LiveKitEventNames.RoomStarted, 0),
        ]);

        Assert.Equal(RoomStatuses.Finished, room.Room.Status);
        Assert.Equal(Utc(100), room.Room.FinishedAt);
        Assert.Equal(0, room.Room.CurrentParticipants);
        Assert.Equal(2, room.Room.PeakParticipants);
        var bob = SessionOf(room, "bob");
        Assert.Equal((Utc(100), 50.0, SessionEndReasons.RoomFinished), (bob.LeftAt, bob.DurationSeconds, bob.EndReason));
        var ghost = SessionOf(room, "mallory");
        Assert.Equal((Utc(130), 0.0, SessionEndReasons.RoomFinished), (ghost.LeftAt, ghost.DurationSeconds, ghost.EndReason));
    }

    [Fact]
    public void An_explicit_leave_arriving_after_room_finished_replaces_the_closure()
    {
        var room = Run(
        [
            Event(LiveKitEventNames.ParticipantJoined, 10, Participant("alice", 10)),
            Event(LiveKitEventNames.RoomFinished, 100),
            Event(LiveKitEventNames.ParticipantLeft, 70, Participant("alice", 10)),
        ]);

        var alice = SessionOf(room, "alice");
        Assert.Equal((Utc(70), 60.0, SessionEndReasons.Left), (alice.LeftAt, alice.DurationSeconds, alice.EndReason));
    }

    [Theory]
    [InlineData(60, 60, 1)] // bob joins the second alice leaves: never together
    [InlineData(60, 61, 1)]
    [InlineData(60, 59, 2)]
    public void Peak_counts_only_sessions_that_overlap(int aliceLeaves, int bobJoins, int peak)
    {
        var room = Run(
        [
            Event(LiveKitEventNames.ParticipantJoined, 10, Participant("alice", 10)),
            Event(LiveKitEventNames.ParticipantLeft, aliceLeaves, Participant("alice", 10)),
            Event(LiveKitEventNames.ParticipantJoined, bobJoins, Participant("bob", bobJoins)),
            Event(LiveKitEventNames.ParticipantLeft, 200, Participant("bob", bobJoins)),
        ]);

        Assert.Equal(peak, room.Room.PeakParticipants);
    }

    [Fact]
    public void A_participant_rejoining_under_a_new_sid_is_a_second_session()
    {
        var first = new LiveKitParticipantV1 { Sid = "PA_1", Identity = "alice", JoinedAt = At(10) };
        var second = new LiveKitParticipantV1 { Sid = "PA_2", Identity = "alice", JoinedAt = At(40) };
        var room = Run(
        [
            Event(LiveKitEventNames.ParticipantJoined, 10, first),
            Event(LiveKitEventNames.ParticipantLeft, 30, first),
            Event(LiveKitEventNames.ParticipantJoined, 40, second),
        ]);

        Assert.Equal(2, room.Sessions.Count);
        Assert.Equal(1, room.Room.CurrentParticipants);
        Assert.Equal(1, room.Room.PeakParticipants);
    }

    [Fact]
    public void Egress_started_updated_ended_with_file_locations()
    {
        var started = Event(LiveKitEventNames.EgressStarted, 25, egress: Egress(null, startedAt: 25), withRoom: false);
        var updated = Event(LiveKitEventNames.EgressUpdated, 35, egress: Egress("EGRESS_ENDING", startedAt: 25), withRoom: false);
        var ended = Event(LiveKitEventNames.EgressEnded, 95, egress: Egress("EGRESS_COMPLETE", 25, 95, null,
            "s3://rec/standup.mp4", "s3://rec/standup.m3u8"), withRoom: false);

        var egress = Assert.Single(Run([started]).Egress);
        Assert.Equal(("starting", Utc(25), (DateTime?)null), (egress.Status, egress.StartedAt, egress.EndedAt));
        Assert.Null(egress.Locations);

        egress = Assert.Single(Run([started, updated]).Egress);
        Assert.Equal("ending", egress.Status);

        var expected = Snapshot(Run([started, updated, ended]));
        foreach (var order in new[] { new[] { ended, updated, started }, [updated, ended, started], [ended, started, ended, updated] })
        {
            Assert.Equal(expected, Snapshot(Run(order)));
        }

        var room = Run([ended, updated, started]);
        egress = Assert.Single(room.Egress);
        Assert.Equal(("complete", Utc(25), Utc(95), RoomName), (egress.Status, egress.StartedAt, egress.EndedAt, egress.RoomName));
        Assert.Equal("""["s3://rec/standup.m3u8","s3://rec/standup.mp4"]""", egress.Locations);
        Assert.Equal(RoomSid, room.Room.Sid);
        Assert.Equal(RoomName, room.Room.Name);
        Assert.Equal(RoomStatuses.Active, room.Room.Status);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("EGRESS_STARTING")] // what Ingress reads when the sender omits the status (proto3's zero value)
    [InlineData("EGRESS_ACTIVE")]
    [InlineData("EGRESS_COMPLETE")]
    public void Recording_finished_ends_the_egress_like_egress_ended(string? reportedStatus)
    {
        var started = Event(LiveKitEventNames.EgressStarted, 25, egress: Egress(null, startedAt: 25), withRoom: false);
        var finished = Event(LiveKitEventNames.RecordingFinished, 95, egress: Egress(reportedStatus, 25, 95, null, "s3://rec/standup.mp4"));

        foreach (var order in new[] { new[] { started, finished }, [finished, started], [finished] })
        {
            var room = Run(order);
            var egress = Assert.Single(room.Egress);
            Assert.Equal(("complete", Utc(25), Utc(95), RoomName), (egress.Status, egress.StartedAt, egress.EndedAt, egress.RoomName));
            Assert.Equal("""["s3://rec/standup.mp4"]""", egress.Locations);
            Assert.Equal(RoomSid, room.Room.Sid);
        }

        Assert.Equal(RoomSid, RoomEventFold.RoomSidOf(Event(LiveKitEventNames.RecordingFinished, 0, egress: Egress(null), withRoom: false)));
    }

    [Fact]
    public void A_failed_recording_finished_keeps_its_error()
    {
        var failed = Event(LiveKitEventNames.RecordingFinished, 60, egress: Egress(null, 25, 60, "upload failed"));
        var egress = Assert.Single(Run([failed]).Egress);
        Assert.Equal(("failed", "upload failed"), (egress.Status, egress.Error));
    }

    [Fact]
    public void A_failed_egress_keeps_its_error_and_a_late_progress_report_does_not_revive_it()
    {
        var failed = Event(LiveKitEventNames.EgressEnded, 60, egress: Egress("EGRESS_FAILED", 25, 60, "Start signal not received"), withRoom: false);
        var lateUpdate = Event(LiveKitEventNames.EgressUpdated, 40, egress: Egress("EGRESS_ACTIVE", startedAt: 25), withRoom: false);

        var egress = Assert.Single(Run([failed, lateUpdate]).Egress);
        Assert.Equal(("failed", "Start signal not received", Utc(60)), (egress.Status, egress.Error, egress.EndedAt));
    }

    [Theory]
    [InlineData("EGRESS_LIMIT_REACHED", "egress_ended", null, "limit_reached")]
    [InlineData("EGRESS_ABORTED", "egress_ended", null, "aborted")]
    [InlineData(null, "egress_started", null, "starting")]
    [InlineData(null, "egress_updated", null, "active")]
    [InlineData(null, "egress_ended", null, "complete")]
    [InlineData(null, "egress_ended", "boom", "failed")]
    [InlineData("EGRESS_STARTING", "recording_finished", null, "complete")]
    [InlineData("EGRESS_ACTIVE", "recording_finished", "boom", "failed")]
    [InlineData("EGRESS_ABORTED", "recording_finished", null, "aborted")]
    public void Egress_status_names(string? status, string eventName, string? error, string expected) =>
        Assert.Equal(expected, RoomEventFold.EgressStatus(status, eventName, error));

    [Fact]
    public void Only_room_events_with_a_room_sid_concern_a_room()
    {
        Assert.Equal(RoomSid, RoomEventFold.RoomSidOf(Event(LiveKitEventNames.RoomStarted, 0)));
        Assert.Equal(RoomSid, RoomEventFold.RoomSidOf(Event(LiveKitEventNames.EgressEnded, 0, egress: Egress("EGRESS_COMPLETE"), withRoom: false)));
        Assert.Null(RoomEventFold.RoomSidOf(Event("ingress_started", 0)));
        Assert.Null(RoomEventFold.RoomSidOf(Event("agent_job_started", 0)));
        Assert.Null(RoomEventFold.RoomSidOf(Event("something_new", 0)));
        Assert.Null(RoomEventFold.RoomSidOf(Event(LiveKitEventNames.ParticipantJoined, 0, Participant("a"), withRoom: false)));
        Assert.Throws<ArgumentException>(() => RoomEventFold.Apply(null, Event("ingress_started", 0), Now));
    }

    [Fact]
    public void Over_long_values_are_clipped_to_their_columns_instead_of_failing_the_message()
    {
        var p = new LiveKitParticipantV1 { Sid = "PA_long", Identity = new string('i', 1000), Name = new string('n', 1000) };
        var room = Run([Event(LiveKitEventNames.ParticipantJoined, 10, p)]);

        var session = Assert.Single(room.Sessions);
        Assert.Equal(256, session.Identity.Length);
        Assert.Equal(256, session.Name!.Length);
    }
}
