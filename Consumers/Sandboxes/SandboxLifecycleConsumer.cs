using MassTransit;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.Telemetry;
using Pipeline.Messages.Sandboxes;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>Moves the sandbox registry by one lifecycle event, exactly once per message (group-committed by <see cref="SandboxLifecycleWriter"/>).</summary>
public sealed partial class SandboxLifecycleConsumer(SandboxLifecycleWriter writer, ILogger<SandboxLifecycleConsumer> logger)
    : IConsumer<SandboxLifecycleEventV1>
{
    public const string Name = "sandboxes.lifecycle";

    public async Task Consume(ConsumeContext<SandboxLifecycleEventV1> context)
    {
        var e = context.Message;
        var messageId = context.MessageId ?? throw new PermanentMessageException("A lifecycle message without a MessageId cannot be deduplicated.");
        using var scope = logger.BeginScope(new Dictionary<string, object>
        {
            ["MessageId"] = messageId,
            ["ReceiptId"] = e.ReceiptId,
            ["SandboxId"] = e.SandboxId,
            ["Provider"] = "e2b",
        });

        using var effect = ConsumerEffect.Start(Name, messageId);
        var change = await writer.ApplyAsync(messageId, e, retry: context.FailedBefore(), context.CancellationToken);
        effect.Complete(change.Applied);

        if (!change.Applied)
        {
            LogDuplicate(logger, e.Label, e.SandboxId, messageId);
        }
        else if (change.After == SandboxStates.Killed && change.Before != SandboxStates.Killed)
        {
            LogKilled(logger, e.SandboxId, change.BilledRunningSeconds);
        }
        else
        {
            LogApplied(logger, e.Label, e.SandboxId, change.Before ?? "(new)", change.After);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId}: {Label} applied, {Before} -> {After}")]
    private static partial void LogApplied(ILogger logger, string label, string sandboxId, string before, string after);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId} killed and removed from the active set after {BilledSeconds} billed running seconds")]
    private static partial void LogKilled(ILogger logger, string sandboxId, double billedSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId}: {Label} message {MessageId} was applied before; acknowledged without effect")]
    private static partial void LogDuplicate(ILogger logger, string label, string sandboxId, Guid messageId);
}
