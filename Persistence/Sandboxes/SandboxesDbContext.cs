using Microsoft.EntityFrameworkCore;
using Pipeline.Persistence.Inbox;
using Pipeline.Persistence.Outbox;

namespace Pipeline.Persistence.Sandboxes;

/// <summary>The Sandboxes service's tables: the sandbox registry, its inbox and its own outbox (stale sandboxes).</summary>
public abstract class SandboxesDbContext(DbContextOptions options) : PipelineDbContext(options), IOutboxDbContext
{
    public const string MigrationsHistoryTable = "__sandboxes_migrations";

    public DbSet<Sandbox> Sandboxes => Set<Sandbox>();
    public DbSet<InboxMessage> Inbox => Set<InboxMessage>();
    public DbSet<OutboxMessage> Outbox => Set<OutboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Sandbox>(e =>
        {
            e.ToTable("sandboxes");
            e.HasKey(x => x.SandboxId);
            e.Property(x => x.SandboxId).HasMaxLength(ColumnLengths.SandboxId);
            e.Property(x => x.State).HasMaxLength(16);
            e.Property(x => x.TemplateId).HasMaxLength(ColumnLengths.SandboxId);
            e.Property(x => x.TeamId).HasMaxLength(ColumnLengths.SandboxId);
            e.Property(x => x.BuildId).HasMaxLength(ColumnLengths.SandboxId);
            e.Property(x => x.ExecutionId).HasMaxLength(ColumnLengths.SandboxId);
            e.Property(x => x.Version).IsConcurrencyToken();
            // By state (the read API, the active gauge), and the killed ones by age for the retention purge.
            e.HasIndex(x => new { x.State, x.UpdatedAt });
            // The stale check: running and paused ones by their last event.
            e.HasIndex(x => new { x.State, x.LastEventAt });
            // A team's usage by creation time.
            e.HasIndex(x => new { x.TeamId, x.CreatedAt });
        });
        modelBuilder.MapInbox("sandboxes_inbox");
        modelBuilder.MapOutbox("sandboxes_outbox");
    }
}

// One subclass per provider: each server provider keeps its own migrations in this assembly.
public sealed class SqliteSandboxesDbContext(DbContextOptions<SqliteSandboxesDbContext> options) : SandboxesDbContext(options);

public sealed class PostgreSqlSandboxesDbContext(DbContextOptions<PostgreSqlSandboxesDbContext> options) : SandboxesDbContext(options);

public sealed class SqlServerSandboxesDbContext(DbContextOptions<SqlServerSandboxesDbContext> options) : SandboxesDbContext(options);
