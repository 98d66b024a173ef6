namespace Pipeline.Persistence.Inbox;

/// <summary>A message a consumer has applied; inserted in the same transaction as the consumer's effect.</summary>
public sealed class InboxMessage
{
    public Guid MessageId { get; set; }
    public required string Consumer { get; set; }
    public DateTime ProcessedAt { get; set; }
}
