using Microsoft.EntityFrameworkCore;
using Pipeline.Persistence.Inbox;
using Pipeline.Persistence.Outbox;

namespace Pipeline.Persistence.Credits;

/// <summary>The Credits service's tables: accounts, the ledger, the per-message log, its inbox and its own outbox.</summary>
public abstract class CreditsDbContext(DbContextOptions options) : PipelineDbContext(options), IOutboxDbContext
{
    public const string MigrationsHistoryTable = "__credits_migrations";

    // Credits to 8 decimal places: one new-api quota unit is 0.000002 credit at the default rate.
    private const int AmountPrecision = 28;
    private const int AmountScale = 8;

    public DbSet<CreditAccount> Accounts => Set<CreditAccount>();
    public DbSet<LedgerEntry> Ledger => Set<LedgerEntry>();
    public DbSet<CreditEventLog> EventLog => Set<CreditEventLog>();
    public DbSet<InboxMessage> Inbox => Set<InboxMessage>();
    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<CreditAccount>(e =>
        {
            e.ToTable("credits_accounts");
            e.HasKey(x => x.UserId);
            e.Property(x => x.UserId).HasMaxLength(100);
            e.Property(x => x.Username).HasMaxLength(200);
            e.Property(x => x.Balance).HasPrecision(AmountPrecision, AmountScale);
            e.Property(x => x.Version).IsConcurrencyToken();
        });

        modelBuilder.Entity<LedgerEntry>(e =>
        {
            e.ToTable("credits_ledger");
            e.HasKey(x => x.Id);
            e.Property(x => x.UserId).HasMaxLength(100);
            e.Property(x => x.Kind).HasMaxLength(16);
            e.Property(x => x.Reference).HasMaxLength(200);
            e.Property(x => x.Model).HasMaxLength(200);
            e.Property(x => x.Amount).HasPrecision(AmountPrecision, AmountScale);
            e.Property(x => x.BalanceAfter).HasPrecision(AmountPrecision, AmountScale);
            e.Property(x => x.Uncovered).HasPrecision(AmountPrecision, AmountScale);

            // The last line of defence against a second deduction for one request id (or a second top-up for one reference).
            e.HasIndex(x => new { x.Kind, x.Reference }).IsUnique();
            e.HasIndex(x => new { x.UserId, x.Sequence }).IsUnique();
        });

        modelBuilder.Entity<CreditEventLog>(e =>
        {
            e.ToTable("credits_webhook_logs");
            e.HasKey(x => x.MessageId);
            e.Property(x => x.EventId).HasMaxLength(200);
            e.Property(x => x.UserId).HasMaxLength(100);
            e.Property(x => x.Status).HasMaxLength(16);
            e.Property(x => x.Error).HasMaxLength(2000);
            e.HasIndex(x => new { x.Status, x.ProcessedAt });
            e.HasIndex(x => x.ProcessedAt); // the retention purge deletes the oldest first
            e.HasIndex(x => x.EventId);
        });

        modelBuilder.MapInbox("credits_inbox");
        modelBuilder.MapOutbox("credits_outbox");
    }
}

// One subclass per provider: each server provider keeps its own migrations in this assembly.
public sealed class SqliteCreditsDbContext(DbContextOptions<SqliteCreditsDbContext> options) : CreditsDbContext(options);

public sealed class PostgreSqlCreditsDbContext(DbContextOptions<PostgreSqlCreditsDbContext> options) : CreditsDbContext(options);

public sealed class SqlServerCreditsDbContext(DbContextOptions<SqlServerCreditsDbContext> options) : CreditsDbContext(options);
