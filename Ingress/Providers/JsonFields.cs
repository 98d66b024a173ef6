using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;

namespace Pipeline.Ingress.Providers;

/// <summary>
/// Reading provider JSON leniently about spelling and strictly about kinds: each field is looked up under two
/// names (camelCase and snake_case, in the order given); JSON null counts as absent; a wrong kind is malformed.
/// </summary>
public static class JsonFields
{
    /// <summary>Unix seconds up to the end of year 9999, the range DateTimeOffset can hold.</summary>
    public const long MaxUnixSeconds = 253_402_300_799;

    public delegate NormalizationResult<T> RootNormalizer<T>(JsonElement root, ReadOnlySpan<byte> rawBody) where T : class;

    /// <summary>
    /// Parses a body as exactly one JSON value (a leading BOM allowed) and hands its root to the provider's
    /// normalizer; empty bodies, invalid UTF-8, invalid JSON and trailing content are malformed, never thrown.
    /// </summary>
    public static NormalizationResult<T> Parse<T>(ReadOnlySpan<byte> rawBody, RootNormalizer<T> normalize) where T : class
    {
        if (rawBody.IsEmpty)
        {
            return NormalizationResult<T>.Malformed("empty body");
        }

        // Checked up front: the JSON reader does not validate the bytes inside string values.
        if (!System.Text.Unicode.Utf8.IsValid(rawBody))
        {
            return NormalizationResult<T>.Malformed("invalid utf-8");
        }

        var json = rawBody.StartsWith("\uFEFF"u8) ? rawBody["\uFEFF"u8.Length..] : rawBody;
        try
        {
            var reader = new Utf8JsonReader(json);
            using var document = JsonDocument.ParseValue(ref reader);

            // ParseValue stops after the first value; anything but whitespace after it throws here.
            reader.Read();
            return normalize(document.RootElement, rawBody);
        }
        catch (JsonException)
        {
            return NormalizationResult<T>.Malformed("invalid json");
        }
        catch (InvalidOperationException)
        {
            // GetString on an escaped lone surrogate (e.g. "\ud800"): valid UTF-8 bytes, invalid text.
            return NormalizationResult<T>.Malformed("invalid json string");
        }
    }

    public static bool TryFind(JsonElement obj, (string First, string Second) names, out JsonElement value, out string name)
    {
        if (obj.TryGetProperty(names.First, out value))
        {
            name = names.First;
            return true;
        }

        name = names.Second;
        return obj.TryGetProperty(names.Second, out value);
    }

    public static bool TryReadString(JsonElement obj, string name, out string? value, [NotNullWhen(false)] out string? error) =>
        TryReadString(obj, (name, name), out value, out error);

    public static bool TryReadString(JsonElement obj, (string, string) names, out string? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!TryFind(obj, names, out var element, out var name) || element.ValueKind == JsonValueKind.Null)
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

    public static bool TryReadObject(JsonElement obj, (string, string) names, out JsonElement? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!TryFind(obj, names, out var element, out var name) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            error = name + " must be an object";
            return false;
        }

        value = element;
        return true;
    }

    /// <summary>
    /// A non-negative integer up to <paramref name="max"/>, as a JSON number or a numeric string. A fraction is rounded
    /// only where <paramref name="roundFraction"/> says it is harmless; else it is malformed, as a negative number is.
    /// </summary>
    public static bool TryReadInteger(
        JsonElement obj, (string, string) names, long max, bool roundFraction, out long? value, [NotNullWhen(false)] out string? error)
    {
        value = null;
        error = null;
        if (!TryFind(obj, names, out var element, out var name) || element.ValueKind == JsonValueKind.Null)
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
            if (!roundFraction)
            {
                error = name + " must be an integer";
                return false;
            }

            number = decimal.Round(number, MidpointRounding.AwayFromZero);
        }

        if (number < 0 || number > max)
        {
            error = name + " out of range";
            return false;
        }

        value = (long)number;
        return true;
    }

    /// <summary>A JSON number, or a string holding one.</summary>
    public static bool TryGetDecimal(JsonElement element, out decimal number)
    {
        number = 0;
        return element.ValueKind switch
        {
            JsonValueKind.Number => element.TryGetDecimal(out number),
            JsonValueKind.String => decimal.TryParse(element.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out number),
            _ => false,
        };
    }

    /// <summary>Null for an absent, empty or blank string: optional text is either something or nothing.</summary>
    public static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>Why <paramref name="value"/> is refused when it is longer than <paramref name="maxLength"/>, else null.</summary>
    public static string? TooLong(string? value, string name, int maxLength) =>
        value is not null && value.Length > maxLength ? $"{name} is longer than {maxLength} characters" : null;
}
