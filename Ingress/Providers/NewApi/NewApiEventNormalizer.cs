using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Unicode;
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

    // Unix seconds up to the end of year 9999, the range DateTimeOffset can hold.
    private const long MaxUnixSeconds = 253_402_300_799;

    public static NormalizationResult<object> Normalize(ReadOnlySpan<byte> rawBody, Guid receiptId) =>
        JsonFields.Parse<object>(rawBody, (root, raw) => Normalize(root, raw, receiptId));

    private static NormalizationResult<object> Normalize(JsonElement root, ReadOnlySpan<byte> rawBody, Guid receiptId)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Malformed("body is not a json object");
        }

        if (!TryReadString(root, "type", out var type, out var error)
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

        if (!TryReadString(data, "request_id", out var requestId, out var error)
            || !TryReadId(data, "user_id", out var userId, out error)
            || !TryReadInteger(data, "quota", out var quota, out error)
            || !TryReadString(data, "username", out var username, out error)
            || !TryReadId(data, "token_id", out var tokenId, out error)
            || !TryReadString(data, "token_name", out var tokenName, out error)
            || !TryReadString(data, "model_name", out var modelName, out error)
            || !TryReadInteger(data, "prompt_tokens", out var promptTokens, out error)
            || !TryReadInteger(data, "completion_tokens", out var completionTokens, out error)
            || !TryReadNumber(data, "use_time", out var useTime, out error)
            || !TryReadBoolean(data, "is_stream", out var isStream, out error)
            || !TryReadString(data, "group", out var group, out error)
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
            Username = NullIfEmpty(username),
            TokenId = NullIfEmpty(tokenId),
            TokenName = NullIfEmpty(tokenName),
            ModelName = NullIfEmpty(modelName),
            Quota = quota.Value,
            PromptTokens = promptTokens,
            CompletionTokens = completionTokens,
            UseTime = useTime,
            IsStream = isStream,
            Group = NullIfEmpty(group),
            Channel = NullIfEmpty(channel),
            OccurredAt = occurredAt,
            ReceiptId = receiptId,
        };
        return NormalizationResult<object>.Ok(message, ConsumeKeyPrefix + requestId);
    }

    private static NormalizationResult<object> NormalizeNotification(
        JsonElement root, string type, DateTimeOffset? timestamp, ReadOnlySpan<byte> rawBody, Guid receiptId)
    {
        if (!TryReadString(root, "title", out var title, out var error)
            || !TryReadString(root, "content", out var content, out error)
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

    // JSON null counts as absent; any kind other than string is malformed.
    private static bool TryReadString(JsonElement obj, string name, out string? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!obj.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            error = name + " must be a string";
            return false;
        }

        value = element.GetString();
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

    // Integers may arrive as JSON numbers or numeric strings; fractions and negatives are malformed.
    private static bool TryReadInteger(JsonElement obj, string name, out long? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!obj.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (!TryGetDecimal(element, out var number))
        {
            error = name + " must be a number";
            return false;
        }

        if (number != decimal.Truncate(number))
        {
            error = name + " must be an integer";
            return false;
        }

        if (number < 0 || number > long.MaxValue)
        {
            error = name + " out of range";
            return false;
        }

        value = (long)number;
        return true;
    }

    private static bool TryReadNumber(JsonElement obj, string name, out double? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!obj.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (!TryGetDecimal(element, out var number) || number < 0)
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
        if (!TryReadInteger(obj, name, out var seconds, out error))
        {
            return false;
        }

        if (seconds is null)
        {
            return true;
        }

        if (seconds > MaxUnixSeconds)
        {
            error = name + " out of range";
            return false;
        }

        value = DateTimeOffset.FromUnixTimeSeconds(seconds.Value);
        return true;
    }

    private static bool TryGetDecimal(JsonElement element, out decimal number)
    {
        number = 0;
        return element.ValueKind switch
        {
            JsonValueKind.Number => element.TryGetDecimal(out number),
            JsonValueKind.String => decimal.TryParse(element.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number),
            _ => false,
        };
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    private static NormalizationResult<object> Malformed(string error) => NormalizationResult<object>.Malformed(error);
}
