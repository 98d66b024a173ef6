using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Ingress.Providers;

/// <summary>A converter of a wire format: bodies are read, never written.</summary>
public abstract class ReadOnlyConverter<T> : JsonConverter<T>
{
    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) =>
        throw new NotSupportedException("wire formats are read, never written");
}

/// <summary>
/// A non-negative integer up to a maximum, as a JSON number or a numeric string. A fraction is rounded only where
/// that is harmless; else it is malformed, as a negative number is.
/// </summary>
public abstract class NonNegativeIntegerConverter(long max, bool roundFraction) : ReadOnlyConverter<long?>
{
    public override long? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? null : ReadInteger(ref reader, max, roundFraction);

    public static long ReadInteger(ref Utf8JsonReader reader, long max, bool roundFraction)
    {
        if (!TryReadDecimal(ref reader, out var number))
        {
            throw new WireValueException("must be a number");
        }

        if (number != decimal.Truncate(number))
        {
            if (!roundFraction)
            {
                throw new WireValueException("must be an integer");
            }

            number = decimal.Round(number, MidpointRounding.AwayFromZero);
        }

        return number < 0 || number > max ? throw new WireValueException("out of range") : (long)number;
    }

    /// <summary>A JSON number, or a string holding one.</summary>
    public static bool TryReadDecimal(ref Utf8JsonReader reader, out decimal number)
    {
        number = 0;
        return reader.TokenType switch
        {
            JsonTokenType.Number => reader.TryGetDecimal(out number),
            JsonTokenType.String => decimal.TryParse(WireStringConverter.Text(ref reader), NumberStyles.Float, CultureInfo.InvariantCulture, out number),
            _ => false,
        };
    }
}

public sealed class NonNegativeInt64Converter() : NonNegativeIntegerConverter(long.MaxValue, roundFraction: false);

/// <summary>Milliseconds and the like, where a sender's fraction means nothing.</summary>
public sealed class RoundedNonNegativeInt64Converter() : NonNegativeIntegerConverter(long.MaxValue, roundFraction: true);

public sealed class NonNegativeInt32Converter : ReadOnlyConverter<int?>
{
    public override int? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null ? null : (int)NonNegativeIntegerConverter.ReadInteger(ref reader, int.MaxValue, roundFraction: false);
}

/// <summary>An object whose values are kept as text: strings as they are, anything else as its JSON text.</summary>
public sealed class TextMapConverter : ReadOnlyConverter<Dictionary<string, string>>
{
    public override Dictionary<string, string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new WireValueException("must be an object");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = WireStringConverter.Text(ref reader);
            reader.Read();
            values[name] = TextListConverter.Text(ref reader);
        }

        return values;
    }
}

/// <summary>An array whose items are kept as text: strings as they are, anything else as its JSON text.</summary>
public sealed class TextListConverter : ReadOnlyConverter<List<string>>
{
    public override List<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new WireValueException("must be an array");
        }

        var values = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            values.Add(Text(ref reader));
        }

        return values;
    }

    public static string Text(ref Utf8JsonReader reader) =>
        reader.TokenType == JsonTokenType.String ? WireStringConverter.Text(ref reader) : JsonElement.ParseValue(ref reader).GetRawText();
}
