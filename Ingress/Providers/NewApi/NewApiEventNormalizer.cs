using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
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

    public static NormalizationResult<object> Normalize(ReadOnlySpan<byte> rawBody, Guid receiptId) =>
        JsonFields.Parse<object>(rawBody, (root, raw) => Normalize(root, raw, receiptId));

    private static NormalizationResult<object> Normalize(JsonElement root, ReadOnlySpan<byte> rawBody, Guid receiptId)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Malformed("body is not a json object");
        }

        if (!JsonFields.TryReadString(root, "type", out var type, out var error)
            || !TryReadUnixSeconds(root, "timestamp", out var timestamp, out error))
        {
            return Malformed(error);
        }

        if (string.IsNullOrWhiteSpace(type))
        {
            return Malformed("missing type");
        }

        return type == ConsumeType
            ? NormalizeConsume(root, timestamp, receiptId)
            : NormalizeNotification(root, type, timestamp, rawBody, receiptId);
    }

    private static NormalizationResult<object> NormalizeConsume(JsonElement root, DateTimeOffset? timestamp, Guid receiptId)
    {
        if (!root.TryGetProperty("data", out var data) || data.ValueKind == JsonValueKind.Null)
        {
            return Malformed("consume event without a data object");
        }

        if (data.ValueKind != JsonValueKind.Object)
        {
            return Malformed("data must be an object");
        }

        if (!JsonFields.TryReadString(data, "request_id", out var requestId, out var error)
            || !TryReadId(data, "user_id", out var userId, out error)
            || !JsonFields.TryReadInteger(data, ("quota", "quota"), long.MaxValue, roundFraction: false, out var quota, out error)
            || !JsonFields.TryReadString(data, "username", out var username, out error)
            || !TryReadId(data, "token_id", out var tokenId, out error)
            || !JsonFields.TryReadString(data, "token_name", out var tokenName, out error)
            || !JsonFields.TryReadString(data, "model_name", out var modelName, out error)
            || !JsonFields.TryReadInteger(data, ("prompt_tokens", "prompt_tokens"), long.MaxValue, roundFraction: false, out var promptTokens, out error)
            || !JsonFields.TryReadInteger(data, ("completion_tokens", "completion_tokens"), long.MaxValue, roundFraction: false, out var completionTokens, out error)
            || !TryReadNumber(data, "use_time", out var useTime, out error)
            || !TryReadBoolean(data, "is_stream", out var isStream, out error)
            || !JsonFields.TryReadString(data, "group", out var group, out error)
            || !TryReadId(data, "channel", out var channel, out error)
            || !TryReadUnixSeconds(data, "created_at", out var createdAt, out error))
        {
            return Malformed(error);
        }

        if (string.IsNullOrWhiteSpace(requestId))
        {
            return Malformed("missing data.request_id");
        }

        if (requestId.Length > MaxRequestIdLength)
        {
            return Malformed($"data.request_id is longer than {MaxRequestIdLength} characters");
        }

        if (string.IsNullOrWhiteSpace(userId))
        {
            return Malformed("missing data.user_id");
        }

        if (userId.Length > MaxUserIdLength)
        {
            return Malformed($"data.user_id is longer than {MaxUserIdLength} characters");
        }

        if (quota is null)
        {
            return Malformed("missing data.quota");
        }

        if ((createdAt ?? timestamp) is not { } occurredAt)
        {
            return Malformed("missing data.created_at and timestamp");
        }

        var message = new UsageRecordedV1
        {
            RequestId = requestId,
            UserId = userId,
            Username = JsonFields.NullIfBlank(username),
            TokenId = JsonFields.NullIfBlank(tokenId),
            TokenName = JsonFields.NullIfBlank(tokenName),
            ModelName = JsonFields.NullIfBlank(modelName),
            Quota = quota.Value,
            PromptTokens = promptTokens,
            CompletionTokens = completionTokens,
            UseTime = useTime,
            IsStream = isStream,
            Group = JsonFields.NullIfBlank(group),
            Channel = JsonFields.NullIfBlank(channel),
            OccurredAt = occurredAt,
            ReceiptId = receiptId,
        };
        return NormalizationResult<object>.Ok(message, ConsumeKeyPrefix + requestId);
    }

    private static NormalizationResult<object> NormalizeNotification(
        JsonElement root, string type, DateTimeOffset? timestamp, ReadOnlySpan<byte> rawBody, Guid receiptId)
    {
        if (!JsonFields.TryReadString(root, "title", out var title, out var error)
            || !JsonFields.TryReadString(root, "content", out var content, out error)
            || !TryReadValues(root, out var values, out error))
        {
            return Malformed(error);
        }

        if (timestamp is not { } occurredAt)
        {
            return Malformed("missing timestamp");
        }

        // The wire format has no id: the same notification sent twice is the same bytes.
        var key = DedupKeys.ForBody(rawBody);
        var message = new GatewayNotificationV1
        {
            EventId = key,
            Type = type,
            Title = title,
            Content = content,
            Values = values,
            OccurredAt = occurredAt,
            ReceiptId = receiptId,
        };
        return NormalizationResult<object>.Ok(message, key);
    }

    // new-api declares values as []interface{}: strings pass as they are, anything else as its JSON text.
    private static bool TryReadValues(JsonElement obj, out IReadOnlyList<string>? values, [NotNullWhen(false)] out string? error)
    {
        values = null;
        error = null;
        if (!obj.TryGetProperty("values", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.Array)
        {
            error = "values must be an array";
            return false;
        }

        var list = new List<string>(element.GetArrayLength());
        foreach (var item in element.EnumerateArray())
        {
            list.Add(item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText());
        }

        values = list;
        return true;
    }

    // Ids are integers in new-api's Go structs and strings in forks: either becomes a string.
    private static bool TryReadId(JsonElement obj, string name, out string? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!obj.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                value = element.GetString()!.Trim();
                return true;
            case JsonValueKind.Number when element.TryGetDecimal(out var number) && number == decimal.Truncate(number):
                value = decimal.Truncate(number).ToString(CultureInfo.InvariantCulture);
                return true;
            default:
                error = name + " must be a string or an integer";
                return false;
        }
    }

    private static bool TryReadNumber(JsonElement obj, string name, out double? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!obj.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (!JsonFields.TryGetDecimal(element, out var number) || number < 0)
        {
            error = name + " must be a non-negative number";
            return false;
        }

        value = (double)number;
        return true;
    }

    private static bool TryReadBoolean(JsonElement obj, string name, out bool? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!obj.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.True:
                value = true;
                return true;
            case JsonValueKind.False:
                value = false;
                return true;
            case JsonValueKind.String when bool.TryParse(element.GetString(), out var parsed):
                value = parsed;
                return true;
            default:
                error = name + " must be a boolean";
                return false;
        }
    }

    private static bool TryReadUnixSeconds(JsonElement obj, string name, out DateTimeOffset? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        if (!JsonFields.TryReadInteger(obj, (name, name), long.MaxValue, roundFraction: false, out var seconds, out error))
        {
            return false;
        }

        if (seconds is null)
        {
            return true;
        }

        if (seconds > JsonFields.MaxUnixSeconds)
        {
            error = name + " out of range";
            return false;
        }

        value = DateTimeOffset.FromUnixTimeSeconds(seconds.Value);
        return true;
    }

    private static NormalizationResult<object> Malformed(string error) => NormalizationResult<object>.Malformed(error);
}
