using System.Text.Json;
using Pipeline.Hosting.Bus;
using Pipeline.Messages.Credits;
using Pipeline.Messages.Rooms;
using Pipeline.Messages.Sandboxes;

namespace Pipeline.Hosting.Outbox;

/// <summary>Turns contracts into outbox bodies and back. Only types of the Messages assembly may be published.</summary>
public static class OutboxMessageTypes
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, Type> Known = typeof(SandboxLifecycleEventV1).Assembly.GetExportedTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && t.Namespace?.StartsWith("Pipeline.Messages.", StringComparison.Ordinal) == true)
        .ToDictionary(t => t.FullName!, StringComparer.Ordinal);

    // Every domain contract has a consumer service that must receive it, in this queue; generic-source deliveries, top-up
    // and stale-sandbox announcements are only offered to whoever subscribes (the Deliveries service, which a deployment
    // may leave out), so with no subscriber yet, unroutable is fine for them.
    private static readonly Dictionary<Type, string> ConsumerQueues = new()
    {
        [typeof(SandboxLifecycleEventV1)] = PipelineQueues.SandboxesLifecycle,
        [typeof(UsageRecordedV1)] = PipelineQueues.CreditsUsage,
        [typeof(CreditBalanceLowV1)] = PipelineQueues.CreditsAlerts,
        [typeof(CreditsExhaustedV1)] = PipelineQueues.CreditsAlerts,
        [typeof(GatewayNotificationV1)] = PipelineQueues.CreditsGatewayNotifications,
        [typeof(LiveKitEventV1)] = PipelineQueues.RoomsLiveKit,
    };

    /// <summary>The queue of the consumer service that must receive <paramref name="type"/>, or null when none must.</summary>
    public static string? ConsumerQueueOf(Type type) => ConsumerQueues.GetValueOrDefault(type);

    public static string NameOf(Type type) =>
        Known.ContainsKey(type.FullName!) ? type.FullName! : throw new ArgumentException($"{type} is not a message contract.", nameof(type));

    public static Type Resolve(string name) =>
        Known.TryGetValue(name, out var type) ? type : throw new InvalidOperationException($"Unknown message type '{name}' in the outbox.");

    public static string Serialize(object message) => JsonSerializer.Serialize(message, message.GetType(), Json);

    public static object Deserialize(string name, string body) =>
        JsonSerializer.Deserialize(body, Resolve(name), Json) ?? throw new InvalidOperationException($"Empty outbox body for '{name}'.");
}
