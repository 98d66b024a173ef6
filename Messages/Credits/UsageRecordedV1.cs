namespace Pipeline.Messages.Credits;

/// <summary>
/// One API call's usage as reported by a new-api family gateway (<c>type: "consume"</c>): deducts credits exactly
/// once per <see cref="RequestId"/>.
/// </summary>
public sealed record UsageRecordedV1
{
    /// <summary>The gateway's request id: the idempotency key of the deduction.</summary>
    public required string RequestId { get; init; }

    public required string UserId { get; init; }
    public string? Username { get; init; }
    public string? TokenId { get; init; }
    public string? TokenName { get; init; }
    public string? ModelName { get; init; }

    /// <summary>Quota units used (new-api: 500,000 quota = 1 USD); converted to credits by the Credits service.</summary>
    public required long Quota { get; init; }

    public long? PromptTokens { get; init; }
    public long? CompletionTokens { get; init; }

    /// <summary>Seconds the call took, as the gateway reports it.</summary>
    public double? UseTime { get; init; }

    public bool? IsStream { get; init; }
    public string? Group { get; init; }
    public string? Channel { get; init; }
    public required DateTimeOffset OccurredAt { get; init; }
    public required Guid ReceiptId { get; init; }
}
