using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Batching;
using Pipeline.Hosting.Outbox;
using Npgsql;
using Pipeline.Messages.Credits;
using Pipeline.Persistence;
using Pipeline.Persistence.Credits;

namespace Pipeline.Consumers.Credits;

public enum UsageOutcomeKind
{
    /// <summary>Deducted now.</summary>
    Processed,

    /// <summary>Another message with the same request id was deducted: recorded in the log, nothing deducted.</summary>
    Duplicate,

    /// <summary>This message was applied before (the inbox has it).</summary>
    Redelivered,
}

/// <summary>What one usage message did; <see cref="Change"/> only for <see cref="UsageOutcomeKind.Processed"/>.</summary>
public readonly record struct UsageOutcome(UsageOutcomeKind Kind, Guid? EntryId, BalanceChange Change)
{
    /// <summary>Why this message was not applied while the rest of its batch was (an unknown account).</summary>
    internal Exception? Failure { get; init; }
}

/// <summary>A usage message to deduct, with the trace its alerts continue.</summary>
public sealed record UsageItem(Guid MessageId, UsageRecordedV1 Usage, string? TraceParent);

/// <summary>
/// Deducts usage group-committed (<c>Credits:GroupCommit</c>): the messages consumed together share one transaction, in
/// which each has its inbox row, its ledger entry, its log row and any alert for the outbox. The messages of one account
/// are applied in order by one writer, so a busy account costs one row update per batch instead of a lost race per
/// message. Three guards stand behind "once": the inbox (the same message redelivered), a ledger lookup and the batch's
/// own request ids (another message with the same request id), and the unique ledger index on the request id for a
/// race with another replica, which refuses the batch: it is then written message by message, and a message that still
/// loses is retried by the bus's policy, alone.
/// </summary>
public sealed class UsageWriter(
    IServiceScopeFactory scopes, IOptionsMonitor<CreditsOptions> options, OutboxSignal<CreditsDbContext> outboxSignal,
    IOptionsMonitor<GroupCommitOptions> groupCommit, ILogger<UsageWriter> logger)
    : InboxBatchWriter<CreditsDbContext, UsageItem, UsageOutcome>(
        UsageRecordedConsumer.Name, item => item.MessageId, scopes, groupCommit, logger, item => item.Usage.UserId)
{
    public const string GroupCommitSection = "Credits:GroupCommit";

    private const int MaxModelLength = 200;
    private const int MaxUsernameLength = 200;

    /// <summary>Returns once the deduction is committed; throws <see cref="UnknownAccountException"/> or what refused the commit.</summary>
    /// <param name="retry">The message failed before: it is applied in a transaction of its own.</param>
    public async Task<UsageOutcome> DeductAsync(UsageItem item, bool retry, CancellationToken cancellationToken)
    {
        var outcome = await SubmitAsync(item, cancellationToken, alone: retry);
        return outcome.Failure is { } failure ? throw failure : outcome;
    }

    protected override async Task WriteAsync(InboxBatch batch, CancellationToken cancellationToken)
    {
        var db = batch.Db;
        var outcomes = batch.Results;
        var settings = options.CurrentValue;
        var alerts = false;

        // On PostgreSQL the ledger entries, new log rows and balances are written set-based after the inbox rows, in the
        // same transaction; elsewhere they are tracked entities saved with the inbox rows.
        var rows = db.Database.IsNpgsql() ? new SetBasedRows() : null;
        await using var transaction = rows is null ? null : await db.Database.BeginTransactionAsync(cancellationToken);
        var applied = await batch.ApplyOnceAsync(async (indexes, ct) =>
        {
            alerts = false; // a second attempt starts over
            rows?.Clear();
            if (indexes.Count == 0)
            {
                return [];
            }

            var now = DateTime.UtcNow;
            var messageIds = indexes.Select(i => batch.Items[i].MessageId).ToList();
            var requestIds = indexes.Select(i => batch.Items[i].Usage.RequestId).Distinct().ToList();
            var userIds = indexes.Select(i => batch.Items[i].Usage.UserId).Distinct().ToList();
            // Log rows of failures recorded earlier: updated in place; on PostgreSQL the new rows replace them (an upsert).
            var logs = rows is null
                ? await db.EventLog.Where(l => messageIds.Contains(l.MessageId)).ToDictionaryAsync(l => l.MessageId, ct)
                : [];
            var deducted = await db.Ledger.AsNoTracking()
                .Where(l => l.Kind == LedgerKinds.Deduction && requestIds.Contains(l.Reference!))
                .Select(l => new { l.Reference, l.Id })
                .ToDictionaryAsync(l => l.Reference!, l => l.Id, StringComparer.Ordinal, ct);
            var accounts = await (rows is null ? db.Accounts : db.Accounts.AsNoTracking())
                .Where(a => userIds.Contains(a.UserId)).ToDictionaryAsync(a => a.UserId, StringComparer.Ordinal, ct);
            rows?.Loaded(accounts.Values);
            var skipped = new List<int>();
            foreach (var i in indexes)
            {
                var (messageId, e, traceParent) = batch.Items[i];
                logs.TryGetValue(messageId, out var log);
                if (deducted.TryGetValue(e.RequestId, out var entryId))
                {
                    WriteLog(db, rows, log, e, messageId, CreditEventStatuses.Duplicate, entryId, now);
                    outcomes[i] = new UsageOutcome(UsageOutcomeKind.Duplicate, entryId, default);
                    continue;
                }

                if (!accounts.TryGetValue(e.UserId, out var account))
                {
                    if (!settings.CreateUnknownAccounts)
                    {
                        // Not applied and no inbox row: replayed after a top-up opens the account, it is deducted then.
                        outcomes[i] = new UsageOutcome(UsageOutcomeKind.Redelivered, null, default) { Failure = new UnknownAccountException(e.UserId) };
                        skipped.Add(i);
                        continue;
                    }

                    account = new CreditAccount { UserId = e.UserId, Balance = 0, CreatedAt = now };
                    if (rows is null)
                    {
                        db.Accounts.Add(account);
                    }
                    else
                    {
                        rows.Opened.Add(account);
                    }

                    accounts[e.UserId] = account;
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
                if (rows is null)
                {
                    db.Ledger.Add(entry);
                }
                else
                {
                    rows.Ledger.Add(entry);
                }

                deducted[e.RequestId] = entry.Id;

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
                    }, e.ReceiptId, now).TraceParent = traceParent;
                    account.LowNotifiedAt = now;
                    alerts = true;
                }

                if (change.BecameExhausted)
                {
                    db.Outbox.Enqueue(new CreditsExhaustedV1 { UserId = account.UserId, Balance = CreditRules.Trim(change.After), At = now }, e.ReceiptId, now)
                        .TraceParent = traceParent;
                    account.ExhaustedNotifiedAt = now;
                    alerts = true;
                }

                WriteLog(db, rows, log, e, messageId, CreditEventStatuses.Processed, entry.Id, now);
                outcomes[i] = new UsageOutcome(UsageOutcomeKind.Processed, entry.Id, change);
            }

            return skipped;
        }, cancellationToken);
        if (rows is not null)
        {
            await rows.WriteAsync(db, cancellationToken);
            await transaction!.CommitAsync(cancellationToken);
        }

        if (alerts)
        {
            outboxSignal.Notify();
        }

        for (var i = 0; i < outcomes.Length; i++)
        {
            if (!applied[i] && outcomes[i].Failure is null)
            {
                outcomes[i] = new UsageOutcome(UsageOutcomeKind.Redelivered, null, default);
            }
        }
    }

    private static void WriteLog(
        CreditsDbContext db, SetBasedRows? rows, CreditEventLog? log, UsageRecordedV1 e, Guid messageId, string status, Guid? entryId, DateTime now)
    {
        if (log is null)
        {
            log = new CreditEventLog { MessageId = messageId, EventId = e.RequestId, Status = status };
            if (rows is null)
            {
                db.EventLog.Add(log);
            }
            else
            {
                rows.Logs.Add(log);
            }
        }

        log.EventId = e.RequestId;
        log.UserId = e.UserId;
        log.ReceiptId = e.ReceiptId;
        log.Status = status;
        log.Error = null;
        log.LedgerEntryId = entryId;
        log.ProcessedAt = now;
    }

    internal static string? Truncate(string? value, int length) =>
        value is null || value.Length <= length ? value : value[..length];

    /// <summary>
    /// A batch's opened accounts, new ledger entries, log rows and changed accounts, written on PostgreSQL in one round
    /// trip (<see cref="PostgreSqlWrites"/>). Accounts are read untracked; a balance is updated only where the account's
    /// version is still the one read, else the batch fails as EF's concurrency check would fail it. A log row replaces
    /// the one an earlier failed attempt recorded. Alerts stay tracked entities, saved with the inbox rows.
    /// </summary>
    private sealed class SetBasedRows
    {
        private readonly Dictionary<CreditAccount, int> _loaded = new(ReferenceEqualityComparer.Instance);

        public List<CreditAccount> Opened { get; } = [];
        public List<LedgerEntry> Ledger { get; } = [];
        public List<CreditEventLog> Logs { get; } = [];

        public void Clear()
        {
            _loaded.Clear();
            Opened.Clear();
            Ledger.Clear();
            Logs.Clear();
        }

        /// <summary>The accounts read from the database, with the version each had.</summary>
        public void Loaded(IEnumerable<CreditAccount> accounts)
        {
            foreach (var account in accounts)
            {
                _loaded[account] = account.Version;
            }
        }

        public async Task WriteAsync(CreditsDbContext db, CancellationToken cancellationToken)
        {
            var changed = _loaded.Where(a => a.Key.Version != a.Value).Select(a => (a.Key, (object)a.Value)).ToList();
            try
            {
                await new PostgreSqlWrites(db).Insert(Opened).Insert(Ledger).Upsert(Logs).Update(changed).ExecuteAsync(cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // Another replica deducted the same request id, took the same sequence or opened the same account first.
                throw new DbUpdateException($"The deductions were refused: {ex.MessageText}", ex);
            }
        }
    }
}
