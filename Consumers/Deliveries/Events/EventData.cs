using System.Text.Json;

namespace Pipeline.Consumers.Deliveries.Events;

// The "data" of each public event. These records are the public contract (serialized snake_case): add fields, never
// rename or remove one. They are separate from the bus messages so that those can change without breaking receivers.

public sealed record SandboxEventData(
    string SandboxId,
    string? TeamId,
    string? TemplateId,
    string? BuildId,
    string? ExecutionId,
    IReadOnlyDictionary<string, string>? Metadata,
    SandboxExecutionData? Execution,
    DateTimeOffset OccurredAt,
    string E2bEventId,
    string E2bEventType);

public sealed record SandboxStaleData(
    string SandboxId,
    string? TeamId,
    string? TemplateId,
    string State,
    DateTimeOffset LastEventAt,
    double StaleAfterSeconds,
    DateTimeOffset OccurredAt);

public sealed record SandboxExecutionData(DateTimeOffset? StartedAt, int? VcpuCount, int? MemoryMb, long? ExecutionTimeMs);

public sealed record UsageRecordedData(
    string RequestId,
    string UserId,
    string? Username,
    string? TokenId,
    string? TokenName,
    string? ModelName,
    long Quota,
    long? PromptTokens,
    long? CompletionTokens,
    double? UseTimeSeconds,
    bool? IsStream,
    string? Group,
    string? Channel,
    DateTimeOffset OccurredAt);

public sealed record BalanceLowData(string UserId, decimal Balance, decimal Threshold, DateTimeOffset OccurredAt);

public sealed record CreditsExhaustedData(string UserId, decimal Balance, DateTimeOffset OccurredAt);

public sealed record ToppedUpData(string UserId, decimal Amount, decimal Balance, string Reference, DateTimeOffset OccurredAt);

public sealed record GatewayNotificationData(
    string NotificationId, string Type, string? Title, string? Content, IReadOnlyList<string>? Values, DateTimeOffset OccurredAt);

/// <summary>Room, participant, track, egress and ingress events: the parts LiveKit sent for the event, the others left out.</summary>
public sealed record LiveKitEventData(
    string LivekitEventId,
    string LivekitEvent,
    LiveKitRoomData? Room,
    LiveKitParticipantData? Participant,
    LiveKitTrackData? Track,
    LiveKitEgressData? Egress,
    LiveKitIngressData? Ingress,
    DateTimeOffset OccurredAt);

public sealed record LiveKitRoomData(
    string Sid, string Name, DateTimeOffset? CreationTime, int? NumParticipants, int? MaxParticipants, string? Metadata);

public sealed record LiveKitParticipantData(
    string Sid, string Identity, string? Name, string? State, string? Kind, DateTimeOffset? JoinedAt, string? Metadata);

public sealed record LiveKitTrackData(string Sid, string? Type, string? Source, string? Name, string? MimeType);

public sealed record LiveKitEgressData(
    string EgressId, string? RoomId, string? RoomName, string? Status, DateTimeOffset? StartedAt, DateTimeOffset? EndedAt,
    string? Error, IReadOnlyList<string>? Locations);

public sealed record LiveKitIngressData(string IngressId, string? Name, string? RoomName, string? Status);

/// <summary>
/// Inbound → outbound forwarding: what a configured source sent. <see cref="Body"/> is the JSON value when the body
/// is JSON, else the text.
/// </summary>
public sealed record WebhookReceivedData(
    string Source,
    string? EventType,
    string EventId,
    string? ContentType,
    IReadOnlyDictionary<string, string> Headers,
    JsonElement Body,
    DateTimeOffset ReceivedAt);

public sealed record WebhookTestData(string Message, Guid EndpointId);

public sealed record EndpointDisabledData(Guid EndpointId, string? Description, string Reason, DateTimeOffset DisabledAt);
