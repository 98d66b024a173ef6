using MassTransit;
using Microsoft.Extensions.Logging;

namespace Pipeline.Hosting.Bus;

/// <summary>Headers the outbox dispatcher adds to what it publishes.</summary>
public static class PipelineHeaders
{
    /// <summary>The receipt of the webhook the message came from (absent for messages a consumer published).</summary>
    public const string ReceiptId = "Pipeline-ReceiptId";
}

/// <summary>
/// Puts the MessageId (the outbox row id) and, for messages that came from a webhook, the ReceiptId on every log
/// line written while a message is consumed, whichever consumer writes it. Consumers add their own domain ids.
/// </summary>
public sealed class MessageLogScopeFilter<T>(ILoggerFactory loggers) : IFilter<ConsumeContext<T>> where T : class
{
    private readonly ILogger _logger = loggers.CreateLogger("Pipeline.Messages");

    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        var properties = new Dictionary<string, object>(2);
        if (context.MessageId is { } messageId)
        {
            properties["MessageId"] = messageId;
        }

        if (context.Headers.Get<string>(PipelineHeaders.ReceiptId) is { Length: > 0 } receiptId)
        {
            properties["ReceiptId"] = receiptId;
        }

        using var scope = properties.Count > 0 ? _logger.BeginScope(properties) : null;
        await next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("pipelineLogScope");
}
