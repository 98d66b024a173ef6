using Pipeline.Messages.Credits;

namespace Pipeline.Ingress.Providers.NewApi;

/// <summary>
/// Turns a new-api envelope <c>{"type","title","content","values","timestamp"}</c> into a message:
/// <c>type: "consume"</c> with a <c>data</c> object (one API call's usage, our format for the seed's fork) becomes a
/// <see cref="UsageRecordedV1"/> keyed by its request id; every other type (quota_exceed, channel_update,
/// channel_test, …) is an upstream notification, a <see cref="GatewayNotificationV1"/> keyed by the body's hash.
/// </summary>
public static class NewApiEventNormalizer
{
    public const string ConsumeType = "consume";
    public const string ConsumeKeyPrefix = "consume:";
    public const int MaxRequestIdLength = 128;
    public const int MaxUserIdLength = 100;

    public static NormalizationResult<object> Normalize(ReadOnlySpan<byte> rawBody, Guid receiptId)
    {
        if (!WireJson.TryRead(rawBody, NewApiWireContext.Default.NewApiWebhookBody, out var body, out var error))
        {
            return Malformed(error);
        }

        if (string.IsNullOrWhiteSpace(body.Type))
        {
            return Malformed("missing type");
        }

        return body.Type == ConsumeType ? NormalizeConsume(body, receiptId) : NormalizeNotification(body, body.Type, rawBody, receiptId);
    }

    private static NormalizationResult<object> NormalizeConsume(NewApiWebhookBody body, Guid receiptId)
    {
        if (body.Data is not { } data)
        {
            return Malformed("consume event without a data object");
        }

        if (string.IsNullOrWhiteSpace(data.RequestId))
        {
            return Malformed("missing data.request_id");
        }

        if (data.RequestId.Length > MaxRequestIdLength)
        {
            return Malformed($"data.request_id is longer than {MaxRequestIdLength} characters");
        }

        if (string.IsNullOrWhiteSpace(data.UserId))
        {
            return Malformed("missing data.user_id");
        }

        if (data.UserId.Length > MaxUserIdLength)
        {
            return Malformed($"data.user_id is longer than {MaxUserIdLength} characters");
        }

        if (data.Quota is not { } quota)
        {
            return Malformed("missing data.quota");
        }

        if ((data.CreatedAt ?? body.Timestamp) is not { } occurredAt)
        {
            return Malformed("missing data.created_at and timestamp");
        }

        var message = new UsageRecordedV1
        {
            RequestId = data.RequestId,
            UserId = data.UserId,
            Username = WireJson.NullIfBlank(data.Username),
            TokenId = WireJson.NullIfBlank(data.TokenId),
            TokenName = WireJson.NullIfBlank(data.TokenName),
            ModelName = WireJson.NullIfBlank(data.ModelName),
            Quota = quota,
            PromptTokens = data.PromptTokens,
            CompletionTokens = data.CompletionTokens,
            UseTime = data.UseTime,
            IsStream = data.IsStream,
            Group = WireJson.NullIfBlank(data.Group),
            Channel = WireJson.NullIfBlank(data.Channel),
            OccurredAt = occurredAt,
            ReceiptId = receiptId,
        };
        return NormalizationResult<object>.Ok(message, ConsumeKeyPrefix + data.RequestId);
    }

    private static NormalizationResult<object> NormalizeNotification(NewApiWebhookBody body, string type, ReadOnlySpan<byte> rawBody, Guid receiptId)
    {
        if (body.Timestamp is not { } occurredAt)
        {
            return Malformed("missing timestamp");
        }

        // The wire format has no id: the same notification sent twice is the same bytes.
        var key = DedupKeys.ForBody(rawBody);
        var message = new GatewayNotificationV1
        {
            EventId = key,
            Type = type,
            Title = body.Title,
            Content = body.Content,
            Values = body.Values,
            OccurredAt = occurredAt,
            ReceiptId = receiptId,
        };
        return NormalizationResult<object>.Ok(message, key);
    }

    private static NormalizationResult<object> Malformed(string error) => NormalizationResult<object>.Malformed(error);
}
