using System.CommandLine;
using Pipeline.Ops.Commands;

try
{
    return await OpsCommands.Build().Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception ex) when (ex is not OperationCanceledException)
{
    // An operator needs the cause, not a stack trace: unreachable broker, bad URI, missing queue.
    Console.Error.WriteLine($"pipeline-ops: {ex.GetType().Name}: {ex.Message}");
    return 1;
}
