using System.Text.Json;
using Pipeline.Consumers.Deliveries.Events;
using Pipeline.Messages.Credits;
using Pipeline.Messages.Rooms;
using Pipeline.Messages.Sandboxes;
using Pipeline.Messages.Webhooks;

namespace Pipeline.UnitTests.Deliveries;

public class BusEventMapperTests
{
    private static readonly Guid MessageId = Guid.Parse("0199a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5b");
    private static readonly DateTimeOffset At = new(2026, 11, 30, 12, 34, 56, 789, TimeSpan.Zero);

    [Theory]
    [InlineData("create", "sandbox.created")]
    [InlineData("pause", "sandbox.paused")]
    [InlineData("resume", "sandbox.resumed")]
    [InlineData("update", "sandbox.updated")]
    [InlineData("kill", "sandbox.killed")]
    public void Sandbox_labels_become_sandbox_events(string label, string type)
    {
        var e = BusEventMapper.Map(Sandbox(label), MessageId);

        Assert.NotNull(e);
        Assert.Equal(type, e.Type);
        Assert.Equal("e2b", e.Source);
    }

    [Fact]
    public void An_unknown_sandbox_label_is_not_published() =>
        Assert.Null(BusEventMapper.Map(Sandbox("snapshot"), MessageId));

    [Fact]
    public void The_envelope_is_the_seeds_with_a_stable_id_and_unix_seconds()
    {
        var json = Parse(BusEventMapper.Map(Sandbox("kill"), MessageId)!.Serialize());

        Assert.Equal(["id", "event_type", "data", "timestamp", "source", "version"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("evt_0199a0b12c3d7e4f8a9b0c1d2e3f4a5b", json.GetProperty("id").GetString());
        Assert.Equal("sandbox.killed", json.GetProperty("event_type").GetString());
        Assert.Equal(1796042096.789m, json.GetProperty("timestamp").GetDecimal());
        Assert.Equal("e2b", json.GetProperty("source").GetString());
        Assert.Equal("1.0", json.GetProperty("version").GetString());
        var data = json.GetProperty("data");
        Assert.Equal("sbx-1", data.GetProperty("sandbox_id").GetString());
        Assert.Equal("team-1", data.GetProperty("team_id").GetString());
        Assert.Equal(42000, data.GetProperty("execution").GetProperty("execution_time_ms").GetInt64());
        Assert.Equal("v", data.GetProperty("metadata").GetProperty("Key").GetString());
        Assert.False(data.TryGetProperty("build_id", out _)); // absent, not null
        Assert.False(data.TryGetProperty("receipt_id", out _)); // internal
    }

    [Fact]
    public void The_same_message_always_gives_the_same_bytes()
    {
        Assert.Equal(BusEventMapper.Map(Sandbox("kill"), MessageId)!.Serialize(), BusEventMapper.Map(Sandbox("kill"), MessageId)!.Serialize());
        Assert.NotEqual(BusEventMapper.Map(Sandbox("kill"), MessageId)!.Id, BusEventMapper.Map(Sandbox("kill"), Guid.NewGuid())!.Id);
    }

    [Fact]
    public void A_stale_sandbox_becomes_sandbox_stale_from_the_sandboxes_service()
    {
        var data = Data(BusEventMapper.Map(new SandboxStaleV1
        {
            SandboxId = "sbx-1", TeamId = "team-1", TemplateId = "base", State = "paused", LastEventAt = At.AddDays(-2), StaleAfterSeconds = 86_400, At = At,
        }, MessageId), "sandbox.stale", "sandboxes");

        Assert.Equal(("sbx-1", "team-1", "paused", 86_400d), (data.GetProperty("sandbox_id").GetString(), data.GetProperty("team_id").GetString(),
            data.GetProperty("state").GetString(), data.GetProperty("stale_after_seconds").GetDouble()));
        Assert.Equal(At.AddDays(-2), data.GetProperty("last_event_at").GetDateTimeOffset());
    }

    [Fact]
    public void Credits_messages_become_credits_events()
    {
        var usage = Data(BusEventMapper.Map(new UsageRecordedV1
        {
            RequestId = "req-1", UserId = "42", Quota = 250_000, ModelName = "gpt-4o-mini", OccurredAt = At, ReceiptId = Guid.NewGuid(),
        }, MessageId), "credits.usage_recorded", "new-api");
        Assert.Equal("req-1", usage.GetProperty("request_id").GetString());
        Assert.Equal(250_000, usage.GetProperty("quota").GetInt64());

        var low = Data(BusEventMapper.Map(new CreditBalanceLowV1 { UserId = "42", Balance = 0.5m, Threshold = 1m, At = At }, MessageId),
            "credits.balance_low", "credits");
        Assert.Equal(0.5m, low.GetProperty("balance").GetDecimal());

        var exhausted = Data(BusEventMapper.Map(new CreditsExhaustedV1 { UserId = "42", Balance = -0.25m, At = At }, MessageId),
            "credits.exhausted", "credits");
        Assert.Equal(-0.25m, exhausted.GetProperty("balance").GetDecimal());

        var toppedUp = Data(BusEventMapper.Map(new CreditsToppedUpV1 { UserId = "42", Amount = 10m, Balance = 9.75m, Reference = "inv-1", At = At }, MessageId),
            "credits.topped_up", "credits");
        Assert.Equal("inv-1", toppedUp.GetProperty("reference").GetString());

        var note = Data(BusEventMapper.Map(new GatewayNotificationV1
        {
            EventId = "n-1", Type = "quota_exceed", Title = "Quota", OccurredAt = At, ReceiptId = Guid.NewGuid(),
        }, MessageId), "gateway.notification", "new-api");
        Assert.Equal("quota_exceed", note.GetProperty("type").GetString());
    }

    [Theory]
    [InlineData("room_started", "room.started")]
    [InlineData("room_finished", "room.finished")]
    [InlineData("participant_joined", "participant.joined")]
    [InlineData("participant_left", "participant.left")]
    [InlineData("track_published", "track.published")]
    [InlineData("track_unpublished", "track.unpublished")]
    [InlineData("egress_ended", "egress.ended")]
    [InlineData("recording_finished", "egress.ended")]
    public void LiveKit_events_become_room_participant_track_and_egress_events(string liveKitEvent, string type)
    {
        var data = Data(BusEventMapper.Map(new LiveKitEventV1
        {
            EventId = "EV_1",
            Event = liveKitEvent,
            CreatedAt = At,
            Room = new LiveKitRoomV1 { Sid = "RM_1", Name = "demo" },
            Participant = new LiveKitParticipantV1 { Sid = "PA_1", Identity = "alice" },
            ReceiptId = Guid.NewGuid(),
        }, MessageId), type, "livekit");

        Assert.Equal("demo", data.GetProperty("room").GetProperty("name").GetString());
        Assert.Equal("alice", data.GetProperty("participant").GetProperty("identity").GetString());
        Assert.Equal("EV_1", data.GetProperty("livekit_event_id").GetString());
        Assert.False(data.TryGetProperty("egress", out _));
    }

    [Fact]
    public void An_unknown_LiveKit_event_is_not_published() =>
        Assert.Null(BusEventMapper.Map(new LiveKitEventV1 { EventId = "EV_2", Event = "something_new", CreatedAt = At, ReceiptId = Guid.NewGuid() }, MessageId));

    [Fact]
    public void A_generic_delivery_is_forwarded_with_its_source_type_and_body()
    {
        var json = Data(BusEventMapper.Map(Received("""{"type":"invoice.paid","data":{"amount":12}}"""), MessageId), "webhook.received", "sources/billing");
        var text = Data(BusEventMapper.Map(Received("run r-1 finished"), MessageId), "webhook.received", "sources/billing");

        Assert.Equal("billing", json.GetProperty("source").GetString());
        Assert.Equal("invoice.paid", json.GetProperty("event_type").GetString());
        Assert.Equal(12, json.GetProperty("body").GetProperty("data").GetProperty("amount").GetInt32());
        Assert.Equal("run r-1 finished", text.GetProperty("body").GetString());
    }

    [Fact]
    public void The_fan_out_consumes_every_message_contract()
    {
        // Contracts are the records of Messages that no other record contains (those are parts: rooms, tracks, …).
        var records = typeof(SandboxLifecycleEventV1).Assembly.GetExportedTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.Name.EndsWith("V1", StringComparison.Ordinal))
            .ToList();
        var parts = records.SelectMany(t => t.GetProperties())
            .SelectMany(p => p.PropertyType.IsGenericType ? p.PropertyType.GetGenericArguments() : [p.PropertyType])
            .Select(t => Nullable.GetUnderlyingType(t) ?? t)
            .ToHashSet();
        var contracts = records.Where(t => !parts.Contains(t)).Select(t => t.Name);
        var consumed = typeof(Pipeline.Consumers.Deliveries.FanOut.EventFanOutConsumer).GetInterfaces()
            .Where(i => i.IsGenericType).Select(i => i.GetGenericArguments()[0].Name);

        Assert.Equal(contracts.Order(), consumed.Order());
    }

    private static SandboxLifecycleEventV1 Sandbox(string label) => new()
    {
        EventId = "e2b-evt-1",
        SandboxId = "sbx-1",
        Label = label,
        EventType = "sandbox.lifecycle." + label,
        OccurredAt = At,
        TeamId = "team-1",
        TemplateId = "base",
        Metadata = new Dictionary<string, string> { ["Key"] = "v" },
        Execution = new SandboxExecutionV1 { ExecutionTimeMs = 42000 },
        ReceiptId = Guid.NewGuid(),
        SourceFormat = "v2",
    };

    private static WebhookReceivedV1 Received(string body) => new()
    {
        Source = "billing",
        EventType = "invoice.paid",
        EventId = "msg_1",
        Headers = new Dictionary<string, string> { ["webhook-id"] = "msg_1" },
        ContentType = "application/json",
        Body = body,
        ReceivedAt = At,
        ReceiptId = Guid.NewGuid(),
    };

    private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement;

    private static JsonElement Data(PublicEvent? e, string type, string source)
    {
        Assert.NotNull(e);
        Assert.Equal(type, e.Type);
        Assert.Equal(source, e.Source);
        Assert.Equal("evt_" + MessageId.ToString("N"), e.Id);
        return Parse(e.Serialize()).GetProperty("data");
    }
}
