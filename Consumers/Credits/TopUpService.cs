using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Pipeline.Hosting.Outbox;
using Pipeline.Messages.Credits;
using Pipeline.Persistence.Credits;

namespace Pipeline.Consumers.Credits;

public enum TopUpStatus
{
    Created,

    /// <summary>The reference was credited before with the same user and amount: nothing added again.</summary>
    Repeat,

    /// <summary>The reference was credited before with another user or amount.</summary>
    Conflict,
}

public sealed record TopUpResult(TopUpStatus Status, LedgerEntry Entry, decimal Balance);

/// <summary>Credits an account once per reference; the ledger's unique (kind, reference) index settles concurrent repeats.</summary>
public sealed partial class TopUpService(
    CreditsDbContext db, IOptionsMonitor<CreditsOptions> options, OutboxSignal<CreditsDbContext> outboxSignal, ILogger<TopUpService> logger)
{
    private const int ConflictAttempts = 12;

    /// <param name="amount">Already checked with <see cref="CreditRules.ValidateTopUp"/>.</param>
    public async Task<TopUpResult> ApplyAsync(string userId, decimal amount, string reference, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await TryApplyAsync(userId, amount, reference, cancellationToken);
            }
            catch (DbUpdateException) when (attempt < ConflictAttempts)
            {
                // A concurrent change to the account, or the same reference committed first: look again.
                db.ChangeTracker.Clear();
                await Task.Delay(Random.Shared.Next(1, 5 << Math.Min(attempt, 6)), cancellationToken);
            }
        }
    }

    private async Task<TopUpResult> TryApplyAsync(string userId, decimal amount, string reference, CancellationToken cancellationToken)
    {
        var existing = await db.Ledger.AsNoTracking()
            .FirstOrDefaultAsync(l => l.Kind == LedgerKinds.TopUp && l.Reference == reference, cancellationToken);
        if (existing is not null)
        {
            var balance = await db.Accounts.AsNoTracking().Where(a => a.UserId == existing.UserId).Select(a => a.Balance).FirstAsync(cancellationToken);
            var same = existing.UserId == userId && existing.Amount == amount;
            return new TopUpResult(same ? TopUpStatus.Repeat : TopUpStatus.Conflict, existing, balance);
        }

        var now = DateTime.UtcNow;
        var account = await db.Accounts.FirstOrDefaultAsync(a => a.UserId == userId, cancellationToken);
        if (account is null)
        {
            account = new CreditAccount { UserId = userId, Balance = 0, CreatedAt = now };
            db.Accounts.Add(account);
        }

        var change = CreditRules.TopUp(account.Balance, amount, options.CurrentValue.LowBalanceThreshold);
        var entry = new LedgerEntry
        {
            Id = Guid.CreateVersion7(),
            UserId = userId,
            Sequence = account.LastSequence + 1,
            Kind = LedgerKinds.TopUp,
            Amount = change.Amount,
            BalanceAfter = change.After,
            Reference = reference,
            CreatedAt = now,
        };
        db.Ledger.Add(entry);
        account.Balance = change.After;
        account.IsLow = change.IsLow;
        account.IsExhausted = change.IsExhausted;
        account.LastSequence = entry.Sequence;
        account.UpdatedAt = now;
        account.Version++;
        // Announced in the top-up's own transaction, for whoever subscribes (outbound webhooks: credits.topped_up).
        db.Outbox.Enqueue(new CreditsToppedUpV1
        {
            UserId = userId,
            Amount = CreditRules.Trim(change.Amount),
            Balance = CreditRules.Trim(change.After),
            Reference = reference,
            At = now,
        }, receiptId: null, now);
        await db.SaveChangesAsync(cancellationToken);
        outboxSignal.Notify();

        LogToppedUp(logger, CreditRules.Trim(amount), userId, reference, CreditRules.Trim(change.Before), CreditRules.Trim(change.After));
        return new TopUpResult(TopUpStatus.Created, entry, change.After);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Topped up {UserId} by {Amount} credits (reference {Reference}): balance {Before} -> {After}")]
    private static partial void LogToppedUp(ILogger logger, decimal amount, string userId, string reference, decimal before, decimal after);
}
