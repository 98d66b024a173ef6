namespace Pipeline.Persistence.Deliveries;

/// <summary>
/// One public event as it is sent: the envelope serialized once, so every endpoint and every retry gets the same
/// bytes under the same id.
/// </summary>
public sealed class WebhookEvent
{
    /// <summary>The envelope's <c>id</c>, also the <c>webhook-id</c> of every delivery of it.</summary>
    public required string Id { get; set; }

    public required string EventType { get; set; }

    /// <summary>The bus message it came from (none for test events).</summary>
    public Guid? MessageId { get; set; }

    /// <summary>The envelope as UTF-8 JSON text: exactly the body that is signed and sent.</summary>
    public required string Payload { get; set; }

    public DateTime CreatedAt { get; set; }
}
