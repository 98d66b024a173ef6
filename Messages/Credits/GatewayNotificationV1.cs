namespace Pipeline.Messages.Credits;

/// <summary>An upstream new-api user notification (quota_exceed, channel_update, channel_test, …), passed on as sent.</summary>
public sealed record GatewayNotificationV1
{
    public required string EventId { get; init; }
    public required string Type { get; init; }
    public string? Title { get; init; }
    public string? Content { get; init; }
    public IReadOnlyList<string>? Values { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public required Guid ReceiptId { get; init; }
}
