using MassTransit;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.Telemetry;
using Microsoft.EntityFrameworkCore;
using Pipeline.Messages.Sandboxes;
using Pipeline.Persistence.Inbox;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.Consumers.Sandboxes;

/// <summary>Moves the sandbox registry by one lifecycle event, exactly once per message.</summary>
public sealed partial class SandboxLifecycleConsumer(SandboxesDbContext db, ILogger<SandboxLifecycleConsumer> logger)
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

        string? before = null;
        Sandbox? after = null;
        using var effect = ConsumerEffect.Start(Name, messageId);
        var applied = await Inbox.ApplyOnceAsync(db, messageId, Name, async ct =>
        {
            var current = await db.Sandboxes.FirstOrDefaultAsync(s => s.SandboxId == e.SandboxId, ct);
            before = current?.State;
            after = SandboxEventFold.Apply(current, e, DateTime.UtcNow);
            after.Version++;
            if (current is null)
            {
                db.Sandboxes.Add(after);
            }
        }, context.CancellationToken);
        effect.Complete(applied);

        if (!applied)
        {
            LogDuplicate(logger, e.Label, e.SandboxId, messageId);
        }
        else if (after!.State == SandboxStates.Killed && before != SandboxStates.Killed)
        {
            LogKilled(logger, e.SandboxId, after.BilledRunningSeconds);
        }
        else
        {
            LogApplied(logger, e.Label, e.SandboxId, before ?? "(new)", after.State);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId}: {Label} applied, {Before} -> {After}")]
    private static partial void LogApplied(ILogger logger, string label, string sandboxId, string before, string after);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId} killed and removed from the active set after {BilledSeconds} billed running seconds")]
    private static partial void LogKilled(ILogger logger, string sandboxId, double billedSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Sandbox {SandboxId}: {Label} message {MessageId} was applied before; acknowledged without effect")]
    private static partial void LogDuplicate(ILogger logger, string label, string sandboxId, Guid messageId);
}
