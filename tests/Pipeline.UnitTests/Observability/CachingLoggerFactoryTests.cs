using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Hosting.Telemetry;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Pipeline.UnitTests.Observability;

public sealed class CachingLoggerFactoryTests
{
    [Fact]
    public void Serilogs_factory_makes_a_logger_per_call_and_the_decorated_one_a_logger_per_category()
    {
        using (var plain = Services(new RecordingSink(), decorate: false))
        {
            var factory = plain.GetRequiredService<ILoggerFactory>();
            Assert.NotSame(factory.CreateLogger("Pipeline.A"), factory.CreateLogger("Pipeline.A"));
        }

        var sink = new RecordingSink();
        using var services = Services(sink, decorate: true);
        var cached = services.GetRequiredService<ILoggerFactory>();
        Assert.IsType<CachingLoggerFactory>(cached);
        var a = cached.CreateLogger("Pipeline.A");
        Assert.Same(a, cached.CreateLogger("Pipeline.A"));
        Assert.NotSame(a, cached.CreateLogger("Pipeline.B"));

        a.LogInformation("through the cache");
        Assert.Equal("through the cache", Assert.Single(sink.Events).RenderMessage(null));
    }

    [Fact]
    public void Disposing_the_services_still_disposes_serilogs_logger_and_its_sinks()
    {
        var sink = new RecordingSink();
        var services = Services(sink, decorate: true);
        services.GetRequiredService<ILoggerFactory>().CreateLogger("Pipeline.A").LogInformation("before the stop");
        services.Dispose();
        Assert.True(sink.Disposed);
    }

    private static ServiceProvider Services(RecordingSink sink, bool decorate)
    {
        var services = new ServiceCollection();
        services.AddSerilog(new LoggerConfiguration().WriteTo.Sink(sink).CreateLogger(), dispose: true);
        if (decorate)
        {
            CachingLoggerFactory.Decorate(services);
        }

        return services.BuildServiceProvider();
    }

    private sealed class RecordingSink : ILogEventSink, IDisposable
    {
        public List<LogEvent> Events { get; } = [];

        public bool Disposed { get; private set; }

        public void Emit(LogEvent logEvent) => Events.Add(logEvent);

        public void Dispose() => Disposed = true;
    }
}
