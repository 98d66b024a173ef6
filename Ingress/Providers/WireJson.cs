using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Pipeline.Ingress.Providers;

/// <summary>
/// Reads a provider's body into its wire-format type (System.Text.Json, source-generated) and says precisely why a body
/// does not fit: which field (the leaf of the exception's path) and why (the converter's reason, else the kind the
/// wire format declares). JSON null counts as absent; a wrong kind is malformed.
/// </summary>
public static class WireJson
{
    /// <summary>Unix seconds up to the end of year 9999, the range DateTimeOffset can hold.</summary>
    public const long MaxUnixSeconds = 253_402_300_799;

    /// <summary>
    /// Reads a body as exactly one JSON object (a leading BOM allowed); empty bodies, invalid UTF-8, invalid JSON,
    /// trailing content and values of the wrong kind are malformed, never thrown.
    /// </summary>
    public static bool TryRead<T>(ReadOnlySpan<byte> rawBody, JsonTypeInfo<T> wire, [NotNullWhen(true)] out T? body, [NotNullWhen(false)] out string? error)
        where T : class
    {
        body = null;
        error = null;
        if (rawBody.IsEmpty)
        {
            error = "empty body";
            return false;
        }

        // Checked up front: the JSON reader does not validate the bytes inside string values.
        if (!System.Text.Unicode.Utf8.IsValid(rawBody))
        {
            error = "invalid utf-8";
            return false;
        }

        var json = WithoutBom(rawBody);
        if (RootError(json) is { } rootError)
        {
            error = rootError;
            return false;
        }

        try
        {
            body = JsonSerializer.Deserialize(json, wire)!;
            return true;
        }
        catch (JsonException exception)
        {
            error = Describe(exception, wire);
            return false;
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate (e.g. "\ud800") where a name is read: valid UTF-8 bytes, invalid text.
            error = "invalid json string";
            return false;
        }
    }

    /// <summary>Null for an absent, empty or blank string: optional text is either something or nothing.</summary>
    public static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>Why <paramref name="value"/> is refused when it is longer than <paramref name="maxLength"/>, else null.</summary>
    public static string? TooLong(string? value, string name, int maxLength) =>
        value is not null && value.Length > maxLength ? $"{name} is longer than {maxLength} characters" : null;

    /// <summary>The body without a leading UTF-8 byte order mark.</summary>
    public static ReadOnlySpan<byte> WithoutBom(ReadOnlySpan<byte> body) => body.StartsWith("\uFEFF"u8) ? body["\uFEFF"u8.Length..] : body;

    /// <summary>
    /// The kind of the first token of <paramref name="json"/>, or <see cref="JsonTokenType.None"/> when it is not valid
    /// JSON; with <paramref name="wholeValue"/>, read to the end: None unless it is exactly one valid value.
    /// </summary>
    public static JsonTokenType FirstToken(ReadOnlySpan<byte> json, bool wholeValue)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read())
            {
                return JsonTokenType.None;
            }

            var first = reader.TokenType;
            while (wholeValue && reader.Read())
            {
            }

            return first;
        }
        catch (JsonException)
        {
            return JsonTokenType.None;
        }
    }

    // The root's kind is told before the typed read, which would report "[…]" as a value of the wrong kind.
    private static string? RootError(ReadOnlySpan<byte> json) =>
        FirstToken(json, wholeValue: false) == JsonTokenType.StartObject ? null
        : FirstToken(json, wholeValue: true) == JsonTokenType.None ? "invalid json"
        : "body is not a json object";

    private static string Describe(JsonException exception, JsonTypeInfo wire)
    {
        // The reader's own exceptions (syntax, depth, trailing content) come wrapped, with the path where they struck.
        if (exception.InnerException is JsonException)
        {
            return "invalid json";
        }

        // A converter's reason: the field is the path's last name ($.room.emptyTimeout: emptyTimeout).
        if (exception is WireValueException value)
        {
            return value.AboutBody || exception.Path is not { } path ? value.Message : $"{path[(path.LastIndexOf('.') + 1)..]} {value.Message}";
        }

        if (!TryResolve(wire, exception.Path, out var name, out var declared, out var element))
        {
            return "invalid json";
        }

        // A value the source-generated reader itself refused: not of the kind the wire format declares.
        var kind = declared.Kind switch
        {
            JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => "object",
            JsonTypeInfoKind.Enumerable => "array",
            _ => null,
        };
        return (kind, element) switch
        {
            (null, _) => $"{name} has the wrong json type",
            (_, true) => $"{name} must hold {kind}s",
            _ => $"{name} must be an {kind}",
        };
    }

    // Follows a path like $.egressInfo.fileResults[0].location through the wire format's metadata to the field it names
    // (an array's element is named by its array) and the type declared for it.
    private static bool TryResolve(
        JsonTypeInfo wire, string? path, [NotNullWhen(true)] out string? name, [NotNullWhen(true)] out JsonTypeInfo? declared, out bool element)
    {
        name = null;
        declared = wire;
        element = false;
        if (path is null || !path.StartsWith('$'))
        {
            return false;
        }

        for (var at = 1; at < path.Length;)
        {
            JsonTypeInfo? next;
            if (path[at] == '.')
            {
                var end = path.IndexOfAny(['.', '['], at + 1);
                end = end < 0 ? path.Length : end;
                var segment = path[(at + 1)..end];
                var property = declared.Properties.FirstOrDefault(p => p.Name == segment);
                if (property is null || !declared.Options.TryGetTypeInfo(property.PropertyType, out next))
                {
                    return false;
                }

                (name, element, at) = (segment, false, end);
            }
            else if (path[at] == '[' && path.IndexOf(']', at) is var close and > 0 && char.IsAsciiDigit(path[at + 1])
                     && declared.ElementType is { } elementType && declared.Options.TryGetTypeInfo(elementType, out next))
            {
                (element, at) = (true, close + 1);
            }
            else
            {
                return false;
            }

            declared = next;
        }

        return name is not null;
    }
}

/// <summary>
/// Thrown by a wire-format converter: <see cref="Exception.Message"/> says why the field is refused
/// ("must be a number"), the serializer adds the path that says which; <see cref="AboutBody"/> when the reason is
/// the whole body's.
/// </summary>
public sealed class WireValueException(string why, bool aboutBody = false) : JsonException(why)
{
    public bool AboutBody { get; } = aboutBody;
}

/// <summary>Strings as the wire formats take them: a string token only, and text that is valid UTF-16.</summary>
public sealed class WireStringConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        return reader.TokenType == JsonTokenType.String ? Text(ref reader) : throw new WireValueException("must be a string");
    }

    /// <summary>
    /// The string the reader is on; an escaped lone surrogate makes the whole body malformed, an escaped NUL the field
    /// (no PostgreSQL text column, where ids and names end up, can hold one).
    /// </summary>
    public static string Text(ref Utf8JsonReader reader)
    {
        string text;
        try
        {
            text = reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new WireValueException("invalid json string", aboutBody: true);
        }

        return text.Contains('\0', StringComparison.Ordinal) ? throw new WireValueException(NulCharacter) : text;
    }

    /// <summary>Why a string holding U+0000 is refused.</summary>
    public const string NulCharacter = "contains a NUL character (U+0000)";

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
