namespace Pipeline.Persistence.Outbox;

/// <summary>A message written in the same transaction as its receipt, published later by the dispatcher.</summary>
public sealed class OutboxMessage
{
    /// <summary>Also the MassTransit MessageId, so every consumer's inbox can recognise a republished copy.</summary>
    public Guid Id { get; set; }

    public Guid? ReceiptId { get; set; }

    /// <summary>The contract's CLR type name (its wire name follows from it).</summary>
    public required string MessageType { get; set; }

    /// <summary>The message serialized as JSON.</summary>
    public required string Body { get; set; }

    /// <summary>
    /// Not stored: the message itself, on a row written by this process and handed to its dispatcher in memory, which
    /// then publishes it without reading <see cref="Body"/> back. Null on rows read from the table.
    /// </summary>
    public object? Message { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime? SentAt { get; set; }

    /// <summary>A dispatcher holds the row until then; after it, another dispatcher may claim it.</summary>
    public DateTime? LockedUntil { get; set; }

    public string? LockedBy { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }

    /// <summary>
    /// The W3C traceparent of the request that wrote the row: the publish continues that trace, so one trace runs
    /// from the webhook to the consumer's effect although the publish happens later, in another task.
    /// </summary>
    public string? TraceParent { get; set; }
}
