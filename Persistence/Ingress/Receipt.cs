namespace Pipeline.Persistence.Ingress;

/// <summary>One accepted webhook delivery, kept as received. (Provider, DedupKey) is unique.</summary>
public sealed class Receipt
{
    public Guid Id { get; set; }
    public required string Provider { get; set; }

    /// <summary>The provider's event id, or a hash of the body where it has none.</summary>
    public required string DedupKey { get; set; }

    public DateTime ReceivedAt { get; set; }

    /// <summary>The headers that matter for tracing a delivery, as a JSON object (never signatures).</summary>
    public required string Headers { get; set; }

    public required byte[] Body { get; set; }
}
