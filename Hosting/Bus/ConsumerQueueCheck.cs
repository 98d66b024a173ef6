using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Pipeline.Hosting.Bus;

/// <summary>
/// Whether a consumer queue exists on the broker. The outbox publishes its domain contracts with the mandatory flag, but
/// that only fails a publish that reaches no queue at all: once the Deliveries service's queue is bound to every
/// contract, a publish is routable and confirmed even while the consumer's own queue is missing (a new deployment whose
/// consumer has not started yet), and the consumer's copy would be lost. So the dispatcher asks first, and a contract
/// whose consumer queue is missing stays in the outbox. A queue found is remembered for a few seconds (one passive
/// declare per queue and interval, on a connection of its own); one missing for a second, so a round of its rows asks
/// once, and it is logged once until it is found. When
/// the broker cannot be asked (it is away), the publish goes ahead and meets the broker as it would have.
/// </summary>
public sealed partial class ConsumerQueueCheck(IOptions<BusOptions> options, ILogger<ConsumerQueueCheck> logger) : IAsyncDisposable
{
    private static readonly TimeSpan Remember = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RememberMissing = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, DateTime> _foundUntil = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTime> _missingUntil = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;
    private bool _failing; // the last check could not reach the broker (logged once until one succeeds)

    /// <returns>null when <paramref name="queue"/> exists (or the broker cannot be asked), else why the message must wait.</returns>
    public async ValueTask<string?> MissingAsync(string queue, CancellationToken cancellationToken)
    {
        if (Known(queue) is { } known)
        {
            return known ? null : Missing(queue);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (Known(queue) is { } settled)
            {
                return settled ? null : Missing(queue);
            }

            _connection ??= await new ConnectionFactory { Uri = new Uri(options.Value.RabbitMq!), ClientProvidedName = "pipeline-queue-check" }
                .CreateConnectionAsync(cancellationToken);
            await using var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
            await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
            _foundUntil[queue] = DateTime.UtcNow + Remember;
            _missingUntil.TryRemove(queue, out _);
            _failing = false;
            return null;
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == 404)
        {
            _failing = false;
            if (_missingUntil.TryAdd(queue, DateTime.UtcNow + RememberMissing))
            {
                LogMissing(logger, queue); // once until it is found
            }

            _missingUntil[queue] = DateTime.UtcNow + RememberMissing;
            return Missing(queue);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await DropConnectionAsync();
            if (!_failing)
            {
                _failing = true;
                LogCheckFailed(logger, queue, ex);
            }

            return null;
        }
        finally
        {
            _gate.Release();
        }
    }

    // true: found lately; false: found missing within the last second; null: to be asked.
    private bool? Known(string queue)
    {
        var now = DateTime.UtcNow;
        if (_foundUntil.TryGetValue(queue, out var found) && found > now)
        {
            return true;
        }

        return _missingUntil.TryGetValue(queue, out var missing) && missing > now ? false : null;
    }

    private static string Missing(string queue) => $"queue {queue} does not exist yet: the message waits for its consumer service to declare it";

    public async ValueTask DisposeAsync()
    {
        await DropConnectionAsync();
        _gate.Dispose();
    }

    private async Task DropConnectionAsync()
    {
        if (_connection is { } connection)
        {
            _connection = null;
            await connection.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consumer queue {Queue} does not exist: its messages stay in the outbox until its service declares it")]
    private static partial void LogMissing(ILogger logger, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not check that consumer queue {Queue} exists; publishing without the check until the broker answers")]
    private static partial void LogCheckFailed(ILogger logger, string queue, Exception exception);
}
