using System.Text.Json;
using Pipeline.Messages.Sandboxes;

namespace Pipeline.Hosting.Outbox;

/// <summary>Turns contracts into outbox bodies and back. Only types of the Messages assembly may be published.</summary>
public static class OutboxMessageTypes
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, Type> Known = typeof(SandboxLifecycleEventV1).Assembly.GetExportedTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && t.Namespace?.StartsWith("Pipeline.Messages.", StringComparison.Ordinal) == true)
        .ToDictionary(t => t.FullName!, StringComparer.Ordinal);

    // Generic-source deliveries, top-up and stale-sandbox announcements are offered to whoever subscribes (the
    // Deliveries service, which a deployment may leave out); with no subscriber yet, unroutable is fine. Every other
    // contract has a consumer service that must receive it, so unroutable means "not yet" and retries.
    private static readonly HashSet<Type> OptionalSubscribers =
        [typeof(Pipeline.Messages.Webhooks.WebhookReceivedV1), typeof(Pipeline.Messages.Credits.CreditsToppedUpV1), typeof(SandboxStaleV1)];

    /// <summary>Whether publishing must fail (and be retried) while no queue is bound for the type.</summary>
    public static bool RequiresSubscriber(Type type) => !OptionalSubscribers.Contains(type);

    public static string NameOf(Type type) =>
        Known.ContainsKey(type.FullName!) ? type.FullName! : throw new ArgumentException($"{type} is not a message contract.", nameof(type));

    public static Type Resolve(string name) =>
        Known.TryGetValue(name, out var type) ? type : throw new InvalidOperationException($"Unknown message type '{name}' in the outbox.");

    public static string Serialize(object message) => JsonSerializer.Serialize(message, message.GetType(), Json);

    public static object Deserialize(string name, string body) =>
        JsonSerializer.Deserialize(body, Resolve(name), Json) ?? throw new InvalidOperationException($"Empty outbox body for '{name}'.");
}
