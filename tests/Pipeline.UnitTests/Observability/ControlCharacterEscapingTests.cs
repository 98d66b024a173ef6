using Pipeline.Hosting.Telemetry;
using Serilog;
using Serilog.Configuration;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting.Display;

namespace Pipeline.UnitTests.Observability;

public class ControlCharacterEscapingTests
{
    private const string Template = "[{Level:u3}] {Message:lj} {Properties:j}{NewLine}";

    // What the console sink does with a text template, into a string.
    private sealed class TextSink(TextWriter writer) : ILogEventSink
    {
        private readonly MessageTemplateTextFormatter _formatter = new(Template);

        public void Emit(LogEvent logEvent) => _formatter.Format(logEvent, writer);
    }

    private static string Render(Action<ILogger> log)
    {
        var writer = new StringWriter();
        using (var logger = new LoggerConfiguration()
                   .WriteTo.Sink(LoggerSinkConfiguration.Wrap(s => new ControlCharacterEscaping(s), to => to.Sink(new TextSink(writer))))
                   .CreateLogger())
        {
            log(logger);
        }

        return writer.ToString();
    }

    [Fact]
    public void A_newline_in_a_value_cannot_start_a_line_of_its_own()
    {
        const string forged = "sbx-1\n[INF] Forged: operator logged in\r\n";

        var output = Render(l => l.ForContext("SandboxId", forged).Information("Accepted {Description}", "create for sandbox " + forged));

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(@"create for sandbox sbx-1\n[INF] Forged: operator logged in\r\n", lines[0]);
        Assert.DoesNotContain(lines, l => l.StartsWith("[INF] Forged", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("a\u0000b", @"a\u0000b")]
    [InlineData("esc\u001b[31mred", @"esc\u001B[31mred")]
    [InlineData("tab\there", @"tab\there")]
    [InlineData("next\u0085line", @"next\u0085line")]
    [InlineData("line\u2028sep", @"line\u2028sep")]
    [InlineData("héllo ✓ plain", "héllo ✓ plain")]
    public void Control_characters_are_escaped_and_other_text_is_left_alone(string value, string expected)
    {
        Assert.Equal(expected, ControlCharacterEscaping.Escape(value));
    }

    [Fact]
    public void Values_inside_structures_sequences_and_dictionaries_are_escaped_and_clean_ones_are_kept_as_they_are()
    {
        var clean = new ScalarValue("clean");
        var nested = new StructureValue(
        [
            new LogEventProperty("Ids", new SequenceValue([new ScalarValue("a\nb"), clean])),
            new LogEventProperty("Headers", new DictionaryValue([new(new ScalarValue("x\r"), new ScalarValue("y\n"))])),
        ]);

        var escaped = (StructureValue)ControlCharacterEscaping.Escape(nested);

        var ids = (SequenceValue)escaped.Properties[0].Value;
        Assert.Equal(@"a\nb", ((ScalarValue)ids.Elements[0]).Value);
        Assert.Same(clean, ids.Elements[1]);
        var header = Assert.Single(((DictionaryValue)escaped.Properties[1].Value).Elements);
        Assert.Equal(@"x\r", header.Key.Value);
        Assert.Equal(@"y\n", ((ScalarValue)header.Value).Value);
        Assert.Same(clean, ControlCharacterEscaping.Escape(clean));
    }
}
