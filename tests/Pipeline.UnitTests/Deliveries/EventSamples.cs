using Pipeline.Consumers.Deliveries.Events;
using Pipeline.Messages.Credits;
using Pipeline.Messages.Rooms;
using Pipeline.Messages.Sandboxes;
using Pipeline.Messages.Webhooks;

namespace Pipeline.UnitTests.Deliveries;

/// <summary>One realistic event of every catalogue type, with fixed ids and times: the examples of docs/events.md.</summary>
internal static class EventSamples
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 9, 30, 0, 125, TimeSpan.Zero);
    private static readonly Guid Receipt = Guid.Parse("0199d5e1-7a40-7000-8000-00000000000a");

    private static Guid Message(int n) => Guid.Parse($"0199d5e1-7a40-7b00-8000-{n:D12}");

    public static IEnumerable<PublicEvent> All()
    {
        var labels = new[] { "create", "pause", "resume", "update", "kill" };
        for (var i = 0; i < labels.Length; i++)
        {
            yield return BusEventMapper.Map(new SandboxLifecycleEventV1
            {
                EventId = "7c0b5e9e-4f1a-4d7e-9b1e-3d2f0a6c8e1" + i,
                SandboxId = "sbx-8f2k1",
                Label = labels[i],
                EventType = "sandbox.lifecycle." + EventCatalogue.SandboxLabels[labels[i]].Split('.')[1],
                OccurredAt = At,
                TeamId = "team-42",
                TemplateId = "base",
                BuildId = "bld-3",
                ExecutionId = "exe-77",
                Metadata = new Dictionary<string, string> { ["user"] = "alice" },
                Execution = labels[i] is "pause" or "kill"
                    ? new SandboxExecutionV1 { StartedAt = At.AddMinutes(-12), VcpuCount = 2, MemoryMb = 512, ExecutionTimeMs = 720_000 }
                    : null,
                ReceiptId = Receipt,
                SourceFormat = "v2",
            }, Message(1 + i))!;
        }

        yield return BusEventMapper.Map(new SandboxStaleV1
        {
            SandboxId = "sbx-8f2k1",
            TeamId = "team-42",
            TemplateId = "base",
            State = "running",
            LastEventAt = At.AddHours(-25),
            StaleAfterSeconds = 86_400,
            At = At,
        }, Message(6));
        yield return BusEventMapper.Map(new UsageRecordedV1
        {
            RequestId = "req-20261201093000-ab12",
            UserId = "42",
            Username = "alice",
            TokenId = "7",
            TokenName = "ci",
            ModelName = "gpt-4o-mini",
            Quota = 250_000,
            PromptTokens = 1200,
            CompletionTokens = 340,
            UseTime = 2.4,
            IsStream = true,
            Group = "default",
            Channel = "openai-1",
            OccurredAt = At,
            ReceiptId = Receipt,
        }, Message(10));
        yield return BusEventMapper.Map(new CreditBalanceLowV1 { UserId = "42", Balance = 0.75m, Threshold = 1m, At = At }, Message(11));
        yield return BusEventMapper.Map(new CreditsExhaustedV1 { UserId = "42", Balance = -0.25m, At = At }, Message(12));
        yield return BusEventMapper.Map(new CreditsToppedUpV1 { UserId = "42", Amount = 10m, Balance = 9.75m, Reference = "inv-2026-118", At = At }, Message(13));
        yield return BusEventMapper.Map(new GatewayNotificationV1
        {
            EventId = "ntf-51",
            Type = "quota_exceed",
            Title = "Quota exceeded",
            Content = "User alice has used 100% of the quota.",
            Values = ["alice", "100%"],
            OccurredAt = At,
            ReceiptId = Receipt,
        }, Message(14));

        var room = new LiveKitRoomV1 { Sid = "RM_hK3pQ", Name = "standup", CreationTime = At.AddMinutes(-30), NumParticipants = 2, MaxParticipants = 20 };
        var participant = new LiveKitParticipantV1 { Sid = "PA_9xYz", Identity = "alice", Name = "Alice", State = "ACTIVE", Kind = "STANDARD", JoinedAt = At.AddMinutes(-29) };
        var track = new LiveKitTrackV1 { Sid = "TR_mic1", Type = "AUDIO", Source = "MICROPHONE", Name = "mic", MimeType = "audio/opus" };
        var egress = new LiveKitEgressV1
        {
            EgressId = "EG_r3c0rd", RoomId = "RM_hK3pQ", RoomName = "standup", Status = "EGRESS_COMPLETE", StartedAt = At.AddMinutes(-28), EndedAt = At,
            Locations = ["s3://recordings/standup-2026-12-01.mp4"],
        };
        var ingress = new LiveKitIngressV1 { IngressId = "IN_obs1", Name = "obs", RoomName = "standup", Status = "ENDPOINT_PUBLISHING" };
        var liveKit = new (string Event, LiveKitRoomV1? Room, LiveKitParticipantV1? Participant, LiveKitTrackV1? Track, LiveKitEgressV1? Egress, LiveKitIngressV1? Ingress)[]
        {
            ("room_started", room, null, null, null, null),
            ("room_finished", room with { NumParticipants = 0 }, null, null, null, null),
            ("participant_joined", room, participant, null, null, null),
            ("participant_left", room, participant with { State = "DISCONNECTED" }, null, null, null),
            ("participant_connection_aborted", room, participant with { State = "DISCONNECTED" }, null, null, null),
            ("track_published", room, participant, track, null, null),
            ("track_unpublished", room, participant, track, null, null),
            ("egress_started", null, null, null, egress with { Status = "EGRESS_STARTING", EndedAt = null, Locations = null }, null),
            ("egress_updated", null, null, null, egress with { Status = "EGRESS_ACTIVE", EndedAt = null, Locations = null }, null),
            ("egress_ended", null, null, null, egress, null),
            ("ingress_started", room, null, null, null, ingress),
            ("ingress_ended", room, null, null, null, ingress with { Status = "ENDPOINT_INACTIVE" }),
        };
        for (var i = 0; i < liveKit.Length; i++)
        {
            var k = liveKit[i];
            yield return BusEventMapper.Map(new LiveKitEventV1
            {
                EventId = $"EV_{i:D2}aB3dE",
                Event = k.Event,
                CreatedAt = At,
                Room = k.Room,
                Participant = k.Participant,
                Track = k.Track,
                Egress = k.Egress,
                Ingress = k.Ingress,
                ReceiptId = Receipt,
            }, Message(20 + i))!;
        }

        yield return BusEventMapper.Map(new WebhookReceivedV1
        {
            Source = "billing",
            EventType = "invoice.paid",
            EventId = "msg_2bZ8Qm1",
            Headers = new Dictionary<string, string> { ["webhook-id"] = "msg_2bZ8Qm1", ["webhook-timestamp"] = "1796117400", ["content-type"] = "application/json" },
            ContentType = "application/json",
            Body = """{"type":"invoice.paid","data":{"id":"in_1","amount":1200,"currency":"eur"}}""",
            ReceivedAt = At,
            ReceiptId = Receipt,
        }, Message(40));

        var endpoint = Guid.Parse("0199d5e1-7a40-7c00-8000-0000000000e1");
        yield return new PublicEvent(PublicEvent.IdOf(Message(41)), EventCatalogue.WebhookTest, BusEventMapper.PipelineSource, At,
            new WebhookTestData(Pipeline.Consumers.Deliveries.Api.EndpointsApi.TestMessage, endpoint));
        yield return new PublicEvent(PublicEvent.IdOf(Message(42)), EventCatalogue.EndpointDisabled, BusEventMapper.PipelineSource, At,
            new EndpointDisabledData(endpoint, "billing receiver", "The receiver answered 410 Gone.", At));
    }
}
