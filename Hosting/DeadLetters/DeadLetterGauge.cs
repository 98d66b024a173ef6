using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.Telemetry;

namespace Pipeline.Hosting.DeadLetters;

/// <summary>
/// Keeps <c>pipeline_dead_letters{queue}</c> up to date from the RabbitMQ management API (every
/// <c>Telemetry:GaugeRefreshInterval</c>). One service per deployment is enough (Ingress runs it); on the
/// in-memory transport there are no dead-letter queues to count and it does nothing.
/// </summary>
public sealed partial class DeadLetterGauge(
    IOptions<BusOptions> bus, IOptionsMonitor<TelemetryOptions> options, ILogger<DeadLetterGauge> logger) : BackgroundService
{
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);
    private DeadLetterClient? _client;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = bus.Value;
        if (settings.Transport != BusTransport.RabbitMq)
        {
            return;
        }

        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                _client ??= await DeadLetterClient.ConnectAsync(new Uri(settings.RabbitMq!), settings.ManagementUri(), stoppingToken);
                Update(await _client.ListQueuesAsync(null, stoppingToken));
                failing = false;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                PipelineMetrics.DeadLetterRefreshFailures.Inc();
                if (!failing)
                {
                    LogFailed(logger, ex.GetType().Name, ex.Message);
                }

                failing = true;
                await DropClientAsync();
            }

            await Task.Delay(options.CurrentValue.GaugeRefreshInterval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await DropClientAsync();
    }

    private void Update(IReadOnlyList<DeadLetterQueue> queues)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var queue in queues)
        {
            seen.Add(queue.Name);
            PipelineMetrics.DeadLetters.WithLabels(queue.Name).Set(queue.Messages);
        }

        // A deleted queue stops being reported instead of freezing at its last count.
        foreach (var gone in _known.Where(name => !seen.Contains(name)).ToList())
        {
            PipelineMetrics.DeadLetters.RemoveLabelled(gone);
            _known.Remove(gone);
        }

        _known.UnionWith(seen);
    }

    private async Task DropClientAsync()
    {
        if (_client is { } client)
        {
            _client = null;
            try
            {
                await client.DisposeAsync();
            }
            catch (Exception)
            {
                // The connection is already gone; nothing to release.
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not count dead letters through the RabbitMQ management API ({ErrorType}: {Error}); retrying")]
    private static partial void LogFailed(ILogger logger, string errorType, string error);
}

public static class DeadLetterGaugeRegistration
{
    /// <summary>Adds the dead-letter gauge; call it in one service of a deployment.</summary>
    public static IServiceCollection AddDeadLetterGauge(this IServiceCollection services)
    {
        services.AddTelemetryOptions();
        services.AddHostedService<DeadLetterGauge>();
        return services;
    }
}
