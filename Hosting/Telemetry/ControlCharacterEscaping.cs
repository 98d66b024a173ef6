using System.Text;
using Serilog.Core;
using Serilog.Events;

namespace Pipeline.Hosting.Telemetry;

/// <summary>
/// Escapes control characters (and Unicode line and paragraph separators) in every logged property value, just before
/// the sink writes the event: ids, descriptions and headers come from request data, and a newline in one would
/// otherwise start a forged line in the text output. Applied to the final event, so scope properties are covered
/// whichever enricher added them; message templates and exceptions are the code's own and are left alone.
/// </summary>
public sealed class ControlCharacterEscaping(ILogEventSink inner) : ILogEventSink
{
    public void Emit(LogEvent logEvent)
    {
        ArgumentNullException.ThrowIfNull(logEvent);
        List<LogEventProperty>? escaped = null;
        foreach (var (name, value) in logEvent.Properties)
        {
            var safe = Escape(value);
            if (!ReferenceEquals(safe, value))
            {
                (escaped ??= []).Add(new LogEventProperty(name, safe));
            }
        }

        escaped?.ForEach(logEvent.AddOrUpdateProperty);
        inner.Emit(logEvent);
    }

    /// <summary>The value with its text escaped; the same instance when there was nothing to escape.</summary>
    public static LogEventPropertyValue Escape(LogEventPropertyValue value) => value switch
    {
        ScalarValue { Value: string text } when NeedsEscaping(text) => new ScalarValue(Escape(text)),
        SequenceValue sequence when sequence.Elements.Any(HasChanged) => new SequenceValue(sequence.Elements.Select(Escape)),
        StructureValue structure when structure.Properties.Any(p => HasChanged(p.Value)) =>
            new StructureValue(structure.Properties.Select(p => new LogEventProperty(p.Name, Escape(p.Value))), structure.TypeTag),
        DictionaryValue dictionary when dictionary.Elements.Any(e => HasChanged(e.Key) || HasChanged(e.Value)) =>
            new DictionaryValue(dictionary.Elements.Select(e => new KeyValuePair<ScalarValue, LogEventPropertyValue>(
                (ScalarValue)Escape(e.Key), Escape(e.Value)))),
        _ => value,
    };

    /// <summary><c>\n</c>, <c>\r</c> and <c>\t</c> as such, any other control character as <c>\uXXXX</c>.</summary>
    public static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!NeedsEscaping(text))
        {
            return text;
        }

        var builder = new StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            _ = c switch
            {
                '\n' => builder.Append("\\n"),
                '\r' => builder.Append("\\r"),
                '\t' => builder.Append("\\t"),
                _ when IsUnsafe(c) => builder.Append("\\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture)),
                _ => builder.Append(c),
            };
        }

        return builder.ToString();
    }

    private static bool HasChanged(LogEventPropertyValue value) => !ReferenceEquals(Escape(value), value);

    private static bool NeedsEscaping(string text)
    {
        foreach (var c in text)
        {
            if (IsUnsafe(c))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsUnsafe(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';
}
