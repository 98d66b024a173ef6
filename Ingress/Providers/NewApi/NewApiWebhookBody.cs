using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Ingress.Providers.NewApi;

/// <summary>
/// new-api's notification envelope <c>{"type","title","content","values","timestamp"}</c>, and the <c>data</c> object
/// that our format for the seed's fork adds to <c>type: "consume"</c>: one API call's usage.
/// </summary>
internal sealed class NewApiWebhookBody
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("title")] public string? Title { get; set; }
    [JsonPropertyName("content")] public string? Content { get; set; }

    // new-api declares values as []interface{}: strings pass as they are, anything else as its JSON text.
    [JsonPropertyName("values"), JsonConverter(typeof(TextListConverter))] public List<string>? Values { get; set; }
    [JsonPropertyName("timestamp"), JsonConverter(typeof(UnixSecondsConverter))] public DateTimeOffset? Timestamp { get; set; }
    [JsonPropertyName("data")] public NewApiUsage? Data { get; set; }
}

/// <summary>Ids are integers in new-api's Go structs and strings in forks: either becomes a string.</summary>
internal sealed class NewApiUsage
{
    [JsonPropertyName("request_id")] public string? RequestId { get; set; }
    [JsonPropertyName("user_id"), JsonConverter(typeof(IdConverter))] public string? UserId { get; set; }
    [JsonPropertyName("quota"), JsonConverter(typeof(NonNegativeInt64Converter))] public long? Quota { get; set; }
    [JsonPropertyName("username")] public string? Username { get; set; }
    [JsonPropertyName("token_id"), JsonConverter(typeof(IdConverter))] public string? TokenId { get; set; }
    [JsonPropertyName("token_name")] public string? TokenName { get; set; }
    [JsonPropertyName("model_name")] public string? ModelName { get; set; }
    [JsonPropertyName("prompt_tokens"), JsonConverter(typeof(NonNegativeInt64Converter))] public long? PromptTokens { get; set; }
    [JsonPropertyName("completion_tokens"), JsonConverter(typeof(NonNegativeInt64Converter))] public long? CompletionTokens { get; set; }
    [JsonPropertyName("use_time"), JsonConverter(typeof(NonNegativeNumberConverter))] public double? UseTime { get; set; }
    [JsonPropertyName("is_stream"), JsonConverter(typeof(LenientBooleanConverter))] public bool? IsStream { get; set; }
    [JsonPropertyName("group")] public string? Group { get; set; }
    [JsonPropertyName("channel"), JsonConverter(typeof(IdConverter))] public string? Channel { get; set; }
    [JsonPropertyName("created_at"), JsonConverter(typeof(UnixSecondsConverter))] public DateTimeOffset? CreatedAt { get; set; }
}

internal sealed class UnixSecondsConverter : ReadOnlyConverter<DateTimeOffset?>
{
    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.FromUnixTimeSeconds(NonNegativeIntegerConverter.ReadInteger(ref reader, WireJson.MaxUnixSeconds, roundFraction: false));
}

internal sealed class IdConverter : ReadOnlyConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => WireStringConverter.Text(ref reader).Trim(),
        JsonTokenType.Number when reader.TryGetDecimal(out var number) && number == decimal.Truncate(number) =>
            decimal.Truncate(number).ToString(CultureInfo.InvariantCulture),
        _ => throw new WireValueException("must be a string or an integer"),
    };
}

internal sealed class NonNegativeNumberConverter : ReadOnlyConverter<double?>
{
    public override double? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        NonNegativeIntegerConverter.TryReadDecimal(ref reader, out var number) && number >= 0
            ? (double)number
            : throw new WireValueException("must be a non-negative number");
}

internal sealed class LenientBooleanConverter : ReadOnlyConverter<bool?>
{
    public override bool? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.String when bool.TryParse(WireStringConverter.Text(ref reader), out var parsed) => parsed,
        _ => throw new WireValueException("must be a boolean"),
    };
}

[JsonSourceGenerationOptions(Converters = [typeof(WireStringConverter)])]
[JsonSerializable(typeof(NewApiWebhookBody))]
internal sealed partial class NewApiWireContext : JsonSerializerContext;
