using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.Telemetry;
using Pipeline.Messages.Credits;
using Pipeline.Persistence.Credits;

namespace Pipeline.Consumers.Credits;

/// <summary>
/// Deducts one API call's usage exactly once per request id, through <see cref="UsageWriter"/> (the inbox row, the
/// ledger entry, the balance, the log row and any alert commit together). A lost race with another replica fails the
/// attempt; the bus's retry policy runs it again, and it then deducts from the new balance or finds the duplicate. The
/// last failed attempt is recorded in the webhook log.
/// </summary>
public sealed partial class UsageRecordedConsumer(
    UsageWriter writer,
    CreditsDbContext db,
    IOptions<BusOptions> bus,
    ILogger<UsageRecordedConsumer> logger) : IConsumer<UsageRecordedV1>
{
    public const string Name = "credits.usage";

    private const int MaxErrorLength = 2000;

    public async Task Consume(ConsumeContext<UsageRecordedV1> context)
    {
        var e = context.Message;
        var messageId = context.MessageId ?? throw new PermanentMessageException("A usage message without a MessageId cannot be deduplicated.");
        if (Invalid(e) is { } reason)
        {
            throw new PermanentMessageException($"Invalid usage message {messageId}: {reason}.");
        }

        using var scope = logger.BeginScope(new Dictionary<string, object>
        {
            ["MessageId"] = messageId,
            ["ReceiptId"] = e.ReceiptId,
            ["RequestId"] = e.RequestId,
            ["UserId"] = e.UserId,
            ["Provider"] = "new-api",
        });

        UsageOutcome outcome;
        using var effect = ConsumerEffect.Start(Name, messageId);
        try
        {
            outcome = await writer.DeductAsync(
                new UsageItem(messageId, e, PipelineTelemetry.CurrentTraceParent()), retry: context.FailedBefore(), context.CancellationToken);
            effect.Complete(applied: outcome.Kind == UsageOutcomeKind.Processed);
        }
        catch (Exception ex) when (IsFinalAttempt(context, ex))
        {
            CreditsMetrics.Usage.WithLabels("failed").Inc();
            await RecordFailureAsync(e, messageId, ex);
            LogFailed(logger, e.RequestId, e.UserId, messageId, ex);
            throw;
        }
        catch (DbUpdateException)
        {
            CreditsMetrics.Conflicts.Inc();
            throw;
        }

        switch (outcome.Kind)
        {
            case UsageOutcomeKind.Redelivered:
                CreditsMetrics.Usage.WithLabels("redelivered").Inc();
                LogRedelivered(logger, e.RequestId, messageId);
                break;
            case UsageOutcomeKind.Duplicate:
                CreditsMetrics.Usage.WithLabels("duplicate").Inc();
                LogDuplicate(logger, e.RequestId, e.UserId, outcome.EntryId, messageId);
                break;
            default:
                CreditsMetrics.Usage.WithLabels("processed").Inc();
                CreditsMetrics.DeductedCredits.Inc((double)-outcome.Change.Amount);
                LogDeducted(logger, CreditRules.Trim(-outcome.Change.Amount), e.UserId, e.RequestId, e.Quota,
                    CreditRules.Trim(outcome.Change.Before), CreditRules.Trim(outcome.Change.After));
                if (outcome.Change.Uncovered > 0)
                {
                    CreditsMetrics.Uncovered.Inc();
                    CreditsMetrics.UncoveredCredits.Inc((double)outcome.Change.Uncovered);
                    LogUncovered(logger, e.UserId, e.RequestId, CreditRules.Trim(outcome.Change.Uncovered), outcome.EntryId);
                }

                break;
        }
    }

    // Written on its own after the effect's transaction rolled back, so the log says why the user was not charged.
    private async Task RecordFailureAsync(UsageRecordedV1 e, Guid messageId, Exception failure)
    {
        try
        {
            db.ChangeTracker.Clear();
            var log = await db.EventLog.FirstOrDefaultAsync(l => l.MessageId == messageId, CancellationToken.None);
            if (log is null)
            {
                log = new CreditEventLog { MessageId = messageId, EventId = e.RequestId, Status = CreditEventStatuses.Failed };
                db.EventLog.Add(log);
            }

            log.UserId = e.UserId;
            log.ReceiptId = e.ReceiptId;
            log.Status = CreditEventStatuses.Failed;
            log.Error = UsageWriter.Truncate($"{failure.GetType().Name}: {failure.Message}", MaxErrorLength);
            log.LedgerEntryId = null;
            log.ProcessedAt = DateTime.UtcNow;
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (Exception ex)
        {
            LogFailureNotRecorded(logger, e.RequestId, ex);
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>
    /// Whether the bus's retry policy gives up after this attempt: <c>Bus:RetryLimit</c> retries (credits-usage has no
    /// delayed retries), none for what it ignores.
    /// </summary>
    private bool IsFinalAttempt(ConsumeContext context, Exception ex) =>
        ex is UnknownAccountException or PermanentMessageException || context.GetRetryAttempt() >= bus.Value.RetryLimit;

    /// <summary>What no retry can fix in a message that did not come through Ingress's normalizer.</summary>
    private static string? Invalid(UsageRecordedV1 e) =>
        string.IsNullOrWhiteSpace(e.RequestId) ? "no request id"
        : string.IsNullOrWhiteSpace(e.UserId) ? "no user id"
        : e.Quota < 0 ? $"quota {e.Quota} is negative"
        : null;

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Deducted {Credits} credits from {UserId} for request {RequestId} ({Quota} quota): balance {Before} -> {After}")]
    private static partial void LogDeducted(ILogger logger, decimal credits, string userId, string requestId, long quota, decimal before, decimal after);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Usage of {UserId} for request {RequestId} went {Uncovered} credits beyond the balance: recorded with the balance at 0 and the rest flagged uncovered on entry {EntryId} (Credits:AllowNegative=false)")]
    private static partial void LogUncovered(ILogger logger, string userId, string requestId, decimal uncovered, Guid? entryId);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Request {RequestId} for {UserId} was deducted before (entry {EntryId}); message {MessageId} acknowledged without effect")]
    private static partial void LogDuplicate(ILogger logger, string requestId, string userId, Guid? entryId, Guid messageId);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Usage message {MessageId} for request {RequestId} was applied before; acknowledged without effect")]
    private static partial void LogRedelivered(ILogger logger, string requestId, Guid messageId);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Usage for request {RequestId} of {UserId} (message {MessageId}) failed for good; it goes to credits-usage_error")]
    private static partial void LogFailed(ILogger logger, string requestId, string userId, Guid messageId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the failure of request {RequestId} in the webhook log")]
    private static partial void LogFailureNotRecorded(ILogger logger, string requestId, Exception exception);
}
