using Microsoft.EntityFrameworkCore;
using Pipeline.Persistence.Outbox;

namespace Pipeline.Persistence.Ingress;

/// <summary>Ingress's tables: receipts and the outbox.</summary>
public abstract class IngressDbContext(DbContextOptions options) : PipelineDbContext(options), IOutboxDbContext
{
    public const string MigrationsHistoryTable = "__ingress_migrations";

    public DbSet<Receipt> Receipts => Set<Receipt>();
    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Receipt>(e =>
        {
            e.ToTable("ingress_receipts");
            e.HasKey(x => x.Id);
            e.Property(x => x.Provider).HasMaxLength(64);
            e.Property(x => x.DedupKey).HasMaxLength(ColumnLengths.DedupKey);
            e.HasIndex(x => new { x.Provider, x.DedupKey }).IsUnique();
            e.HasIndex(x => x.ReceivedAt);
        });
        modelBuilder.MapOutbox("ingress_outbox");
    }
}

// One subclass per provider: each server provider keeps its own migrations in this assembly.
public sealed class SqliteIngressDbContext(DbContextOptions<SqliteIngressDbContext> options) : IngressDbContext(options);

public sealed class PostgreSqlIngressDbContext(DbContextOptions<PostgreSqlIngressDbContext> options) : IngressDbContext(options);

public sealed class SqlServerIngressDbContext(DbContextOptions<SqlServerIngressDbContext> options) : IngressDbContext(options);
