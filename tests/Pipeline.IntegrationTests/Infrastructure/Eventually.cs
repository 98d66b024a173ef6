using System.Diagnostics;

namespace Pipeline.IntegrationTests.Infrastructure;

/// <summary>Waits for an observable condition with a deadline, instead of sleeping for a guessed time.</summary>
public static class Eventually
{
    public static async Task<T> WaitAsync<T>(
        Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what, Func<string>? diagnostics = null)
    {
        var clock = Stopwatch.StartNew();
        var delay = TimeSpan.FromMilliseconds(20);
        T last;
        Exception? lastError = null;
        while (true)
        {
            try
            {
                last = await probe();
                if (done(last))
                {
                    return last;
                }
            }
            catch (Exception ex) when (clock.Elapsed < timeout)
            {
                lastError = ex;
                last = default!;
            }

            if (clock.Elapsed >= timeout)
            {
                throw new TimeoutException(
                    $"Timed out after {timeout.TotalSeconds:0}s waiting for {what}; last value: {last}" +
                    (lastError is null ? "" : $"; last error: {lastError.Message}") +
                    (diagnostics is null ? "" : Environment.NewLine + diagnostics()));
            }

            await Task.Delay(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 250));
        }
    }

    public static Task WaitAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, Func<string>? diagnostics = null) =>
        WaitAsync(condition, ok => ok, timeout, what, diagnostics);
}
