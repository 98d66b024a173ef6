using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Settings;

namespace Pipeline.Hosting.Telemetry;

/// <summary>
/// Refreshes gauges that can only be read from a store (rows in a state, messages in a queue) every
/// <c>Telemetry:GaugeRefreshInterval</c>, in a scope of its own. A failed read keeps the last values and is logged
/// once per streak, so a database outage does not flood the log.
/// </summary>
public sealed partial class PeriodicMeasure<TService>(
    string name,
    Func<TService, CancellationToken, Task> measure,
    IServiceScopeFactory scopes,
    IOptionsMonitor<TelemetryOptions> options,
    ILogger<PeriodicMeasure<TService>> logger) : BackgroundService
    where TService : notnull
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await measure(scope.ServiceProvider.GetRequiredService<TService>(), stoppingToken);
                if (failing)
                {
                    LogRecovered(logger, name);
                }

                failing = false;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                if (!failing)
                {
                    LogFailed(logger, name, ex);
                }

                failing = true;
            }

            await Task.Delay(options.CurrentValue.GaugeRefreshInterval, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the {Gauge} gauge; keeping its last value until it can")]
    private static partial void LogFailed(ILogger logger, string gauge, Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "The {Gauge} gauge is being refreshed again")]
    private static partial void LogRecovered(ILogger logger, string gauge);
}

public static class PeriodicMeasureRegistration
{
    /// <summary>
    /// Runs <paramref name="measure"/> with a scoped <typeparamref name="TService"/> (typically the service's
    /// DbContext) at start-up and then every <c>Telemetry:GaugeRefreshInterval</c>.
    /// </summary>
    public static IServiceCollection AddPeriodicMeasure<TService>(
        this IServiceCollection services, string name, Func<TService, CancellationToken, Task> measure)
        where TService : notnull
    {
        services.AddTelemetryOptions();
        // Not AddHostedService: it keeps one hosted service per implementation type, so a second measure over the same
        // TService (a service's row counts and its active sandboxes) would silently never run.
        services.AddSingleton<IHostedService>(sp => new PeriodicMeasure<TService>(name, measure,
            sp.GetRequiredService<IServiceScopeFactory>(),
            sp.GetRequiredService<IOptionsMonitor<TelemetryOptions>>(),
            sp.GetRequiredService<ILogger<PeriodicMeasure<TService>>>()));
        return services;
    }

    internal static IServiceCollection AddTelemetryOptions(this IServiceCollection services)
    {
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateDataAnnotations().ValidateOnStart().KeepLastValidOnReload();
        return services;
    }
}
