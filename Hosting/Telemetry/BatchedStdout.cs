using System.Text;
using Serilog.Configuration;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace Pipeline.Hosting.Telemetry;

/// <summary>
/// Log events written to standard output a batch at a time (Serilog's batching: <see cref="Options"/>): one write and
/// one flush for everything logged since the last batch, instead of a locked write and a system call per event on
/// the thread that logged it. Under load that was half of a request's cost. Events keep their order; the queue is
/// bounded (beyond it Serilog drops events and says so in its self-log); disposing the logger writes what is queued.
/// </summary>
public sealed class BatchedStdout(ITextFormatter formatter) : IBatchedLogEventSink, IDisposable
{
    public static readonly BatchingOptions Options = new()
    {
        BatchSizeLimit = 2000,
        BufferingTimeLimit = TimeSpan.FromMilliseconds(50),
        EagerlyEmitFirstEvent = true,
        QueueLimit = 200_000,
    };

    private readonly StreamWriter _out = new(Console.OpenStandardOutput(), new UTF8Encoding(false), 64 * 1024) { AutoFlush = false };

    public async Task EmitBatchAsync(IReadOnlyCollection<LogEvent> batch)
    {
        foreach (var logEvent in batch)
        {
            formatter.Format(logEvent, _out);
        }

        await _out.FlushAsync();
    }

    public void Dispose() => _out.Dispose();
}
