using System.Diagnostics;
using Serilog.Core;
using Serilog.Events;

namespace Pipeline.Hosting.Telemetry;

/// <summary>
/// Puts the current span's TraceId and SpanId on every log line as ordinary properties, so the console text, the
/// JSON lines and any sink show them, and one trace id finds the lines of every service a webhook went through.
/// </summary>
public sealed class ActivityEnricher : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        if (Activity.Current is not { IdFormat: ActivityIdFormat.W3C } activity)
        {
            return;
        }

        logEvent.AddPropertyIfAbsent(new LogEventProperty("TraceId", new ScalarValue(activity.TraceId.ToHexString())));
        logEvent.AddPropertyIfAbsent(new LogEventProperty("SpanId", new ScalarValue(activity.SpanId.ToHexString())));
    }
}
