using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Pipeline.Hosting.Settings;

/// <summary>
/// An <see cref="IOptionsMonitor{TOptions}"/> that keeps the last valid value when a reload fails validation.
/// The stock monitor drops its cached value before validating the new one, so an invalid reload (a weak secret
/// written to the secrets directory) makes every later <c>CurrentValue</c> throw until the configuration is fixed,
/// and throws on the file watcher's thread. This one logs the problems (which name settings, never values) and goes
/// on serving the last valid value; the first value is still validated as before, so start-up fails as it should.
/// </summary>
public sealed partial class LastValidOptionsMonitor<TOptions> : IOptionsMonitor<TOptions>, IDisposable where TOptions : class
{
    private readonly IOptionsFactory<TOptions> _factory;
    private readonly ILogger _logger;
    private readonly Func<TOptions, string>? _describe;
    private readonly ConcurrentDictionary<string, TOptions> _current = new(StringComparer.Ordinal);
    private readonly List<IDisposable> _registrations = [];
    private readonly object _listenersLock = new();
    private volatile ImmutableListeners _listeners = ImmutableListeners.Empty;

    public LastValidOptionsMonitor(
        IOptionsFactory<TOptions> factory,
        IEnumerable<IOptionsChangeTokenSource<TOptions>> sources,
        ILoggerFactory loggers,
        Func<TOptions, string>? describe = null)
    {
        _factory = factory;
        _describe = describe;
        _logger = loggers.CreateLogger("Pipeline.Hosting.Settings");
        foreach (var source in sources)
        {
            _registrations.Add(ChangeToken.OnChange(source.GetChangeToken, Reload, source.Name));
        }
    }

    public TOptions CurrentValue => Get(Options.DefaultName);

    /// <summary>The last valid value; the first call validates (and throws, as the stock monitor does) when invalid.</summary>
    public TOptions Get(string? name) => _current.GetOrAdd(name ?? Options.DefaultName, _factory.Create);

    public IDisposable? OnChange(Action<TOptions, string?> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        lock (_listenersLock)
        {
            _listeners = _listeners.Add(listener);
        }

        return new Subscription(this, listener);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }

    private void Reload(string? name)
    {
        name ??= Options.DefaultName;
        TOptions options;
        try
        {
            options = _factory.Create(name);
        }
        catch (OptionsValidationException ex)
        {
            LogReloadRejected(_logger, typeof(TOptions).Name, string.Join(" ", ex.Failures));
            return;
        }
        catch (InvalidOperationException ex)
        {
            // The binder's conversion errors name the setting and the target type, not the value.
            LogReloadRejected(_logger, typeof(TOptions).Name, ex.Message);
            return;
        }

        _current[name] = options;
        LogReloaded(_logger, typeof(TOptions).Name, _describe?.Invoke(options) ?? "");
        foreach (var listener in _listeners.Items)
        {
            listener(options, name);
        }
    }

    private void Remove(Action<TOptions, string?> listener)
    {
        lock (_listenersLock)
        {
            _listeners = _listeners.Remove(listener);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Configuration reloaded: {Options} {Summary}")]
    private static partial void LogReloaded(ILogger logger, string options, string summary);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Reloaded configuration of {Options} is invalid and was NOT applied; the last valid configuration stays in force until it is fixed: {Problems}")]
    private static partial void LogReloadRejected(ILogger logger, string options, string problems);

    private sealed class ImmutableListeners(Action<TOptions, string?>[] items)
    {
        public static readonly ImmutableListeners Empty = new([]);
        public Action<TOptions, string?>[] Items { get; } = items;
        public ImmutableListeners Add(Action<TOptions, string?> listener) => new([.. Items, listener]);
        public ImmutableListeners Remove(Action<TOptions, string?> listener) => new([.. Items.Where(l => l != listener)]);
    }

    private sealed class Subscription(LastValidOptionsMonitor<TOptions> monitor, Action<TOptions, string?> listener) : IDisposable
    {
        public void Dispose() => monitor.Remove(listener);
    }
}

public static class LastValidOptionsExtensions
{
    /// <summary>
    /// Reads <typeparamref name="TOptions"/> through a <see cref="LastValidOptionsMonitor{TOptions}"/>: an invalid
    /// reload is logged and ignored. <paramref name="describe"/> sums the new value up for the reload log line
    /// (counts, never secrets).
    /// </summary>
    public static OptionsBuilder<TOptions> KeepLastValidOnReload<TOptions>(this OptionsBuilder<TOptions> builder, Func<TOptions, string>? describe = null)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<IOptionsMonitor<TOptions>>(sp => new LastValidOptionsMonitor<TOptions>(
            sp.GetRequiredService<IOptionsFactory<TOptions>>(),
            sp.GetServices<IOptionsChangeTokenSource<TOptions>>(),
            sp.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance,
            describe));
        return builder;
    }
}
