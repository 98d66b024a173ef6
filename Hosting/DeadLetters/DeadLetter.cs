using System.Text;
using System.Text.Json;
using RabbitMQ.Client;

namespace Pipeline.Hosting.DeadLetters;

/// <summary>One message in a <c>&lt;queue&gt;_error</c> queue, with what MassTransit recorded about its fault.</summary>
public sealed record DeadLetter(
    string Queue,
    string? MessageId,
    string? MessageType,
    string? ExceptionType,
    string? ExceptionMessage,
    DateTimeOffset? FaultedAt,
    string? FirstStackFrame,
    IReadOnlyDictionary<string, string> Headers,
    string Body)
{
    /// <summary>The queue the message failed in and is replayed to.</summary>
    public string SourceQueue => Queue.EndsWith(DeadLetterClient.ErrorSuffix, StringComparison.Ordinal)
        ? Queue[..^DeadLetterClient.ErrorSuffix.Length]
        : Queue;

    public static DeadLetter From(string queue, IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in properties.Headers ?? new Dictionary<string, object?>())
        {
            headers[key] = HeaderText(value);
        }

        var text = Encoding.UTF8.GetString(body.Span);
        var stack = headers.GetValueOrDefault("MT-Fault-StackTrace");
        // RabbitMQ itself dead-letters a message that exceeded the delivery limit (the consumer died holding it each
        // time): no MassTransit fault headers then, only the broker's x-death record.
        var death = headers.ContainsKey("MT-Fault-ExceptionType") ? null : LatestDeath(properties.Headers);
        return new DeadLetter(
            queue,
            properties.MessageId,
            MessageTypeOf(text) ?? properties.Type,
            headers.GetValueOrDefault("MT-Fault-ExceptionType") ?? (death is null ? null : $"dead-lettered by RabbitMQ: {death.Value.Reason}"),
            headers.GetValueOrDefault("MT-Fault-Message") ?? death?.Explanation,
            DateTimeOffset.TryParse(headers.GetValueOrDefault("MT-Fault-Timestamp"), out var at) ? at : death?.At,
            stack?.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(l => l.StartsWith("at ", StringComparison.Ordinal)),
            headers,
            text);
    }

    public static string HeaderText(object? value) => value switch
    {
        null => "",
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        AmqpTimestamp timestamp => DateTimeOffset.FromUnixTimeSeconds(timestamp.UnixTime).ToString("O"),
        IDictionary<string, object?> table => "{" + string.Join(", ", table.Select(e => $"{e.Key}={HeaderText(e.Value)}")) + "}",
        IEnumerable<object?> list when value is not string => string.Join(",", list.Select(HeaderText)),
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>The newest entry of the x-death header (RabbitMQ puts it first): why, from where, when.</summary>
    private static (string Reason, string Explanation, DateTimeOffset? At)? LatestDeath(IDictionary<string, object?>? headers)
    {
        if (headers?.TryGetValue("x-death", out var value) != true || value is not IEnumerable<object?> deaths ||
            deaths.OfType<IDictionary<string, object?>>().FirstOrDefault() is not { } death)
        {
            return null;
        }

        var reason = HeaderText(death.TryGetValue("reason", out var r) ? r : null);
        var from = HeaderText(death.TryGetValue("queue", out var q) ? q : null);
        var explanation = reason switch
        {
            "delivery_limit" => $"delivered more often than the delivery limit of {from} allows without being acknowledged: a consumer process likely crashed on it each time",
            "expired" => $"expired in {from}",
            "rejected" => $"rejected by a consumer of {from}",
            _ => $"{reason} in {from}",
        };
        DateTimeOffset? at = death.TryGetValue("time", out var t) && t is AmqpTimestamp time ? DateTimeOffset.FromUnixTimeSeconds(time.UnixTime) : null;
        return (reason, explanation, at);
    }

    /// <summary>MassTransit's envelope names the type as urn:message:Namespace:Type.</summary>
    private static string? MessageTypeOf(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object &&
                json.RootElement.TryGetProperty("messageType", out var types) &&
                types.ValueKind == JsonValueKind.Array && types.GetArrayLength() > 0)
            {
                return types[0].GetString()?.Replace("urn:message:", "", StringComparison.Ordinal);
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }
}

/// <summary>Which dead letters an operation applies to; every part is optional.</summary>
public sealed record DeadLetterFilter(
    string? Queue = null,
    string? MessageId = null,
    string? ExceptionType = null,
    string? MessageType = null,
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null)
{
    public bool Matches(DeadLetter letter) =>
        (MessageId is null || string.Equals(letter.MessageId, MessageId, StringComparison.OrdinalIgnoreCase)) &&
        (ExceptionType is null || (letter.ExceptionType?.Contains(ExceptionType, StringComparison.OrdinalIgnoreCase) ?? false)) &&
        (MessageType is null || (letter.MessageType?.Contains(MessageType, StringComparison.OrdinalIgnoreCase) ?? false)) &&
        (Since is null || letter.FaultedAt >= Since) &&
        (Until is null || letter.FaultedAt <= Until);
}

public sealed record DeadLetterQueue(string Name, long Messages, long Ready, long Unacknowledged);

public sealed record ReplayReport(int Scanned, int Matched, int Replayed, int Failed, IReadOnlyList<string> Errors);
