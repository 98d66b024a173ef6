namespace Pipeline.Messages.Webhooks;

/// <summary>A verified delivery from a generically configured source (Standard Webhooks, HMAC, token, …), as received.</summary>
public sealed record WebhookReceivedV1
{
    /// <summary>The configured source name (the {name} of POST /webhooks/{name}).</summary>
    public required string Source { get; init; }

    /// <summary>The sender's event type where the scheme or body names one.</summary>
    public string? EventType { get; init; }

    /// <summary>The sender's delivery or event id, else a hash of the body.</summary>
    public required string EventId { get; init; }

    /// <summary>The headers that matter (ids, timestamps, event names, content type); never signatures or tokens.</summary>
    public required IReadOnlyDictionary<string, string> Headers { get; init; }

    public string? ContentType { get; init; }

    /// <summary>The raw body as UTF-8 text.</summary>
    public required string Body { get; init; }

    public required DateTimeOffset ReceivedAt { get; init; }
    public required Guid ReceiptId { get; init; }
}
