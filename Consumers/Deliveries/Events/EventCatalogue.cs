namespace Pipeline.Consumers.Deliveries.Events;

/// <summary>
/// Every public event type, by its stable name. Names are part of the public contract: never rename one; add a new
/// name beside it instead. docs/events.md shows one body of each.
/// </summary>
public static class EventCatalogue
{
    public const string SandboxCreated = "sandbox.created";
    public const string SandboxPaused = "sandbox.paused";
    public const string SandboxResumed = "sandbox.resumed";
    public const string SandboxUpdated = "sandbox.updated";
    public const string SandboxKilled = "sandbox.killed";

    /// <summary>A running or paused sandbox had no lifecycle event for <c>Sandboxes:StaleAfter</c>.</summary>
    public const string SandboxStale = "sandbox.stale";

    public const string CreditsUsageRecorded = "credits.usage_recorded";
    public const string CreditsBalanceLow = "credits.balance_low";
    public const string CreditsExhausted = "credits.exhausted";
    public const string CreditsToppedUp = "credits.topped_up";
    public const string GatewayNotification = "gateway.notification";

    public const string RoomStarted = "room.started";
    public const string RoomFinished = "room.finished";
    public const string ParticipantJoined = "participant.joined";
    public const string ParticipantLeft = "participant.left";
    public const string ParticipantConnectionAborted = "participant.connection_aborted";
    public const string TrackPublished = "track.published";
    public const string TrackUnpublished = "track.unpublished";
    public const string EgressStarted = "egress.started";
    public const string EgressUpdated = "egress.updated";
    public const string EgressEnded = "egress.ended";
    public const string IngressStarted = "ingress.started";
    public const string IngressEnded = "ingress.ended";

    /// <summary>A delivery from a generically configured source, forwarded as received.</summary>
    public const string WebhookReceived = "webhook.received";

    /// <summary>Sent by the test action to one endpoint, whatever it subscribes to.</summary>
    public const string WebhookTest = "webhook.test";

    /// <summary>An endpoint was disabled (by a 410 Gone or after failing for too long), for the other endpoints.</summary>
    public const string EndpointDisabled = "endpoint.disabled";

    public static readonly IReadOnlyList<string> Types =
    [
        SandboxCreated, SandboxPaused, SandboxResumed, SandboxUpdated, SandboxKilled, SandboxStale,
        CreditsUsageRecorded, CreditsBalanceLow, CreditsExhausted, CreditsToppedUp, GatewayNotification,
        RoomStarted, RoomFinished, ParticipantJoined, ParticipantLeft, ParticipantConnectionAborted,
        TrackPublished, TrackUnpublished, EgressStarted, EgressUpdated, EgressEnded, IngressStarted, IngressEnded,
        WebhookReceived, WebhookTest, EndpointDisabled,
    ];

    private static readonly HashSet<string> Known = new(Types, StringComparer.Ordinal);

    public static bool IsKnown(string type) => Known.Contains(type);

    /// <summary>LiveKit's event names and their public types; other LiveKit events are not published.</summary>
    public static readonly IReadOnlyDictionary<string, string> LiveKit = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["room_started"] = RoomStarted,
        ["room_finished"] = RoomFinished,
        ["participant_joined"] = ParticipantJoined,
        ["participant_left"] = ParticipantLeft,
        ["participant_connection_aborted"] = ParticipantConnectionAborted,
        ["track_published"] = TrackPublished,
        ["track_unpublished"] = TrackUnpublished,
        ["egress_started"] = EgressStarted,
        ["egress_updated"] = EgressUpdated,
        ["egress_ended"] = EgressEnded,
        ["recording_finished"] = EgressEnded, // older LiveKit's name for a finished recording
        ["ingress_started"] = IngressStarted,
        ["ingress_ended"] = IngressEnded,
    };

    /// <summary>E2B's lifecycle labels and their public types; unknown labels are not published.</summary>
    public static readonly IReadOnlyDictionary<string, string> SandboxLabels = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [Pipeline.Messages.Sandboxes.SandboxLabels.Create] = SandboxCreated,
        [Pipeline.Messages.Sandboxes.SandboxLabels.Pause] = SandboxPaused,
        [Pipeline.Messages.Sandboxes.SandboxLabels.Resume] = SandboxResumed,
        [Pipeline.Messages.Sandboxes.SandboxLabels.Update] = SandboxUpdated,
        [Pipeline.Messages.Sandboxes.SandboxLabels.Kill] = SandboxKilled,
    };
}
