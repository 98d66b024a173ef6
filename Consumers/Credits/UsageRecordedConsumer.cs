using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.Outbox;
using Pipeline.Hosting.Telemetry;
using Pipeline.Messages.Credits;
using Pipeline.Persistence.Credits;
using Pipeline.Persistence.Inbox;

namespace Pipeline.Consumers.Credits;

/// <summary>
/// Deducts one API call's usage exactly once per request id. The inbox row, the ledger entry, the balance, the log
/// row and any alert for the outbox commit together. Three guards stand behind "once": the inbox (the same message
/// redelivered), a ledger lookup (another message with the same request id), and the unique ledger index on the
/// request id for the race between the two. A lost race (another deduction for the account, the account's creation, or
/// this request id committed first) fails the attempt; the bus's retry policy runs it again, and it then deducts
/// from the new balance or finds the duplicate.
/// </summary>
public sealed partial class UsageRecordedConsumer(
    CreditsDbContext db,
    OutboxSignal<CreditsDbContext> outboxSignal,
    IOptionsMonitor<CreditsOptions> options,
    IOptions<BusOptions> bus,
    ILogger<UsageRecordedConsumer> logger) : IConsumer<UsageRecordedV1>
{
    public const string Name = "credits.usage";

    private const int MaxModelLength = 200;
    private const int MaxUsernameLength = 200;
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

        Outcome outcome;
        using var effect = ConsumerEffect.Start(Name, messageId);
        try
        {
            outcome = await ApplyAsync(e, messageId, context.CancellationToken);
            effect.Complete(applied: outcome.Kind == OutcomeKind.Processed);
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
            case OutcomeKind.Redelivered:
                CreditsMetrics.Usage.WithLabels("redelivered").Inc();
                LogRedelivered(logger, e.RequestId, messageId);
                break;
            case OutcomeKind.Duplicate:
                CreditsMetrics.Usage.WithLabels("duplicate").Inc();
                LogDuplicate(logger, e.RequestId, e.UserId, outcome.EntryId, messageId);
                break;
            default:
                CreditsMetrics.Usage.WithLabels("processed").Inc();
                CreditsMetrics.DeductedCredits.Inc((double)-outcome.Change.Amount);
                if (outcome.Change.BecameLow || outcome.Change.BecameExhausted)
                {
                    outboxSignal.Notify();
                }

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

    private async Task<Outcome> ApplyAsync(UsageRecordedV1 e, Guid messageId, CancellationToken cancellationToken)
    {
        // An attempt starts from the database, not from what a failed attempt before it left tracked in the context.
        db.ChangeTracker.Clear();
        var settings = options.CurrentValue;
        var outcome = new Outcome(OutcomeKind.Redelivered, null, default);
        var applied = await Inbox.ApplyOnceAsync(db, messageId, Name, async ct =>
        {
            var now = DateTime.UtcNow;
            var log = await db.EventLog.FirstOrDefaultAsync(l => l.MessageId == messageId, ct); // a failure recorded earlier
            var existing = await db.Ledger.AsNoTracking()
                .Where(l => l.Kind == LedgerKinds.Deduction && l.Reference == e.RequestId)
                .Select(l => (Guid?)l.Id)
                .FirstOrDefaultAsync(ct);
            if (existing is { } entryId)
            {
                WriteLog(log, e, messageId, CreditEventStatuses.Duplicate, entryId, now);
                outcome = new Outcome(OutcomeKind.Duplicate, entryId, default);
                return;
            }

            var account = await db.Accounts.FirstOrDefaultAsync(a => a.UserId == e.UserId, ct);
            if (account is null)
            {
                if (!settings.CreateUnknownAccounts)
                {
                    throw new UnknownAccountException(e.UserId);
                }

                account = new CreditAccount { UserId = e.UserId, Balance = 0, CreatedAt = now };
                db.Accounts.Add(account);
            }

            var change = CreditRules.Deduct(
                account.Balance, CreditRules.ToCredits(e.Quota, settings.QuotaPerCredit), settings.LowBalanceThreshold, settings.AllowNegative);
            var entry = new LedgerEntry
            {
                Id = Guid.CreateVersion7(),
                UserId = account.UserId,
                Sequence = account.LastSequence + 1,
                Kind = LedgerKinds.Deduction,
                Amount = change.Amount,
                BalanceAfter = change.After,
                Uncovered = change.Uncovered > 0 ? change.Uncovered : null,
                Reference = e.RequestId,
                Model = Truncate(e.ModelName, MaxModelLength),
                Quota = e.Quota,
                MessageId = messageId,
                OccurredAt = e.OccurredAt.UtcDateTime,
                CreatedAt = now,
            };
            db.Ledger.Add(entry);

            account.Balance = change.After;
            account.IsLow = change.IsLow;
            account.IsExhausted = change.IsExhausted;
            account.LastSequence = entry.Sequence;
            account.Username = Truncate(e.Username, MaxUsernameLength) ?? account.Username;
            account.LastUsageAt = now;
            account.UpdatedAt = now;
            account.Version++;

            // Published through this service's own outbox: the alert exists if and only if the deduction does.
            if (change.BecameLow)
            {
                db.Outbox.Enqueue(new CreditBalanceLowV1
                {
                    UserId = account.UserId,
                    Balance = CreditRules.Trim(change.After),
                    Threshold = CreditRules.Trim(settings.LowBalanceThreshold),
                    At = now,
                }, e.ReceiptId, now);
                account.LowNotifiedAt = now;
                CreditsMetrics.Alerts.WithLabels("low").Inc();
            }

            if (change.BecameExhausted)
            {
                db.Outbox.Enqueue(new CreditsExhaustedV1 { UserId = account.UserId, Balance = CreditRules.Trim(change.After), At = now }, e.ReceiptId, now);
                account.ExhaustedNotifiedAt = now;
                CreditsMetrics.Alerts.WithLabels("exhausted").Inc();
            }

            WriteLog(log, e, messageId, CreditEventStatuses.Processed, entry.Id, now);
            outcome = new Outcome(OutcomeKind.Processed, entry.Id, change);
        }, cancellationToken);

        return applied ? outcome : new Outcome(OutcomeKind.Redelivered, null, default);
    }

    private void WriteLog(CreditEventLog? log, UsageRecordedV1 e, Guid messageId, string status, Guid? entryId, DateTime now)
    {
        if (log is null)
        {
            log = new CreditEventLog { MessageId = messageId, EventId = e.RequestId, Status = status };
            db.EventLog.Add(log);
        }

        log.EventId = e.RequestId;
        log.UserId = e.UserId;
        log.ReceiptId = e.ReceiptId;
        log.Status = status;
        log.Error = null;
        log.LedgerEntryId = entryId;
        log.ProcessedAt = now;
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
            log.Error = Truncate($"{failure.GetType().Name}: {failure.Message}", MaxErrorLength);
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

    private static string? Truncate(string? value, int length) =>
        value is null || value.Length <= length ? value : value[..length];

    private enum OutcomeKind
    {
        Processed,
        Duplicate,
        Redelivered,
    }

    private readonly record struct Outcome(OutcomeKind Kind, Guid? EntryId, BalanceChange Change);

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
