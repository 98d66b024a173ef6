using System.Text.Json;
using Pipeline.Messages.Credits;
using Pipeline.Messages.Rooms;
using Pipeline.Messages.Sandboxes;
using Pipeline.Messages.Webhooks;

namespace Pipeline.Consumers.Deliveries.Events;

/// <summary>
/// Bus message → public event, with no I/O. A message the catalogue has no type for (an unknown E2B label or LiveKit
/// event) maps to null and is not published.
/// </summary>
public static class BusEventMapper
{
    public const string E2bSource = "e2b";
    public const string SandboxesSource = "sandboxes";
    public const string NewApiSource = "new-api";
    public const string CreditsSource = "credits";
    public const string LiveKitSource = "livekit";
    public const string PipelineSource = "pipeline";

    /// <summary>The source of a forwarded delivery: <c>sources/{name}</c>.</summary>
    public static string SourceOf(WebhookReceivedV1 m) => "sources/" + m.Source;

    public static PublicEvent? Map(object message, Guid messageId) => message switch
    {
        SandboxLifecycleEventV1 m => Map(m, messageId),
        SandboxStaleV1 m => Map(m, messageId),
        UsageRecordedV1 m => Map(m, messageId),
        CreditBalanceLowV1 m => Map(m, messageId),
        CreditsExhaustedV1 m => Map(m, messageId),
        CreditsToppedUpV1 m => Map(m, messageId),
        GatewayNotificationV1 m => Map(m, messageId),
        LiveKitEventV1 m => Map(m, messageId),
        WebhookReceivedV1 m => Map(m, messageId),
        _ => null,
    };

    public static PublicEvent? Map(SandboxLifecycleEventV1 m, Guid messageId) =>
        EventCatalogue.SandboxLabels.TryGetValue(m.Label, out var type)
            ? new PublicEvent(PublicEvent.IdOf(messageId), type, E2bSource, m.OccurredAt, new SandboxEventData(
                m.SandboxId, m.TeamId, m.TemplateId, m.BuildId, m.ExecutionId, m.Metadata,
                m.Execution is { } x ? new SandboxExecutionData(x.StartedAt, x.VcpuCount, x.MemoryMb, x.ExecutionTimeMs) : null,
                m.OccurredAt, m.EventId, m.EventType))
            : null;

    public static PublicEvent Map(SandboxStaleV1 m, Guid messageId) =>
        new(PublicEvent.IdOf(messageId), EventCatalogue.SandboxStale, SandboxesSource, m.At,
            new SandboxStaleData(m.SandboxId, m.TeamId, m.TemplateId, m.State, m.LastEventAt, m.StaleAfterSeconds, m.At));

    public static PublicEvent Map(UsageRecordedV1 m, Guid messageId) =>
        new(PublicEvent.IdOf(messageId), EventCatalogue.CreditsUsageRecorded, NewApiSource, m.OccurredAt, new UsageRecordedData(
            m.RequestId, m.UserId, m.Username, m.TokenId, m.TokenName, m.ModelName, m.Quota, m.PromptTokens, m.CompletionTokens,
            m.UseTime, m.IsStream, m.Group, m.Channel, m.OccurredAt));

    public static PublicEvent Map(CreditBalanceLowV1 m, Guid messageId) =>
        new(PublicEvent.IdOf(messageId), EventCatalogue.CreditsBalanceLow, CreditsSource, m.At,
            new BalanceLowData(m.UserId, m.Balance, m.Threshold, m.At));

    public static PublicEvent Map(CreditsExhaustedV1 m, Guid messageId) =>
        new(PublicEvent.IdOf(messageId), EventCatalogue.CreditsExhausted, CreditsSource, m.At,
            new CreditsExhaustedData(m.UserId, m.Balance, m.At));

    public static PublicEvent Map(CreditsToppedUpV1 m, Guid messageId) =>
        new(PublicEvent.IdOf(messageId), EventCatalogue.CreditsToppedUp, CreditsSource, m.At,
            new ToppedUpData(m.UserId, m.Amount, m.Balance, m.Reference, m.At));

    public static PublicEvent Map(GatewayNotificationV1 m, Guid messageId) =>
        new(PublicEvent.IdOf(messageId), EventCatalogue.GatewayNotification, NewApiSource, m.OccurredAt,
            new GatewayNotificationData(m.EventId, m.Type, m.Title, m.Content, m.Values, m.OccurredAt));

    public static PublicEvent? Map(LiveKitEventV1 m, Guid messageId) =>
        EventCatalogue.LiveKit.TryGetValue(m.Event, out var type)
            ? new PublicEvent(PublicEvent.IdOf(messageId), type, LiveKitSource, m.CreatedAt, new LiveKitEventData(
                m.EventId,
                m.Event,
                m.Room is { } r ? new LiveKitRoomData(r.Sid, r.Name, r.CreationTime, r.NumParticipants, r.MaxParticipants, r.Metadata) : null,
                m.Participant is { } p ? new LiveKitParticipantData(p.Sid, p.Identity, p.Name, p.State, p.Kind, p.JoinedAt, p.Metadata) : null,
                m.Track is { } t ? new LiveKitTrackData(t.Sid, t.Type, t.Source, t.Name, t.MimeType) : null,
                m.Egress is { } g ? new LiveKitEgressData(g.EgressId, g.RoomId, g.RoomName, g.Status, g.StartedAt, g.EndedAt, g.Error, g.Locations) : null,
                m.Ingress is { } i ? new LiveKitIngressData(i.IngressId, i.Name, i.RoomName, i.Status) : null,
                m.CreatedAt))
            : null;

    public static PublicEvent Map(WebhookReceivedV1 m, Guid messageId) =>
        new(PublicEvent.IdOf(messageId), EventCatalogue.WebhookReceived, SourceOf(m), m.ReceivedAt, new WebhookReceivedData(
            m.Source, m.EventType, m.EventId, m.ContentType, m.Headers, BodyOf(m.Body), m.ReceivedAt));

    /// <summary>The JSON value when the body is JSON (so a receiver reads it as it was sent), else the text.</summary>
    public static JsonElement BodyOf(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(body);
        }
    }
}
