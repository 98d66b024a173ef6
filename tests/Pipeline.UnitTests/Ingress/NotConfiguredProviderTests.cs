using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Pipeline.Ingress;
using Pipeline.Ingress.Dashboard;
using Pipeline.Ingress.Providers.E2b;
using Pipeline.Ingress.Providers.LiveKit;
using Pipeline.Ingress.Providers.NewApi;
using Pipeline.Ingress.Webhooks;

namespace Pipeline.UnitTests.Ingress;

/// <summary>A provider without secrets: 404 naming the setting to set, for whatever is sent, logged once.</summary>
public class NotConfiguredProviderTests
{
    private sealed class CapturedLogs : ILoggerProvider, ILogger
    {
        public ConcurrentQueue<string> Lines { get; } = new();
        public ILogger CreateLogger(string categoryName) => this;
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Enqueue(formatter(state, exception));

        public void Dispose()
        {
        }
    }

    private static ServiceProvider Services(CapturedLogs logs)
    {
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(logs));
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().Build());
        services.AddOptions<IngressOptions>();
        services.AddOptions<RateLimitOptions>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<WebhookRateLimiter>();
        services.AddSingleton<RecentlyRecorded>();
        services.AddSingleton<WebhookTraffic>();
        services.AddSingleton<WebhookPipeline>();
        services.AddE2bProvider();
        services.AddNewApiProvider();
        services.AddLiveKitProvider();
        return services.BuildServiceProvider();
    }

    private static async Task<(int Status, JsonElement Body)> PostAsync(IServiceProvider services, IWebhookProvider provider, string contentType)
    {
        var http = new DefaultHttpContext { RequestServices = services };
        http.Request.Method = "POST";
        http.Request.ContentType = contentType;
        http.Request.Body = new MemoryStream("not even json"u8.ToArray());
        http.Response.Body = new MemoryStream();

        // Refused before the receipt writer is needed.
        var result = await services.GetRequiredService<WebhookPipeline>().HandleAsync(http, provider, writer: null!);
        await result.ExecuteAsync(http);
        http.Response.Body.Position = 0;
        return (http.Response.StatusCode, JsonDocument.Parse(http.Response.Body).RootElement.Clone());
    }

    [Theory]
    [InlineData("e2b", "provider e2b is not configured: set E2B_WEBHOOK_SECRET (or Providers:E2b:Secrets)")]
    [InlineData("new-api", "provider new-api is not configured: set NEWAPI_WEBHOOK_SECRET (or WEBHOOK_SECRET, Providers:NewApi:Secrets)")]
    [InlineData("livekit", "provider livekit is not configured: set LIVEKIT_API_KEY and LIVEKIT_API_SECRET (or Providers:LiveKit:Keys)")]
    public async Task Answers_404_naming_the_setting_and_logs_it_once(string name, string message)
    {
        var logs = new CapturedLogs();
        await using var services = Services(logs);
        var provider = services.GetServices<IWebhookProvider>().Single(p => p.Name == name);

        var first = await PostAsync(services, provider, "application/json");
        var second = await PostAsync(services, provider, "text/html"); // not even the content type is looked at

        foreach (var (status, body) in new[] { first, second })
        {
            Assert.Equal(404, status);
            Assert.Equal("provider not configured", body.GetProperty("error").GetString());
            Assert.Equal(message, body.GetProperty("message").GetString());
        }

        Assert.Single(logs.Lines, line => line.Contains(message, StringComparison.Ordinal));
    }
}
