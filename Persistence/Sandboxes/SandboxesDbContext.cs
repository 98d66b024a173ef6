using Microsoft.EntityFrameworkCore;
using Pipeline.Persistence.Inbox;

namespace Pipeline.Persistence.Sandboxes;

/// <summary>The Sandboxes service's tables: the sandbox registry and its inbox.</summary>
public abstract class SandboxesDbContext(DbContextOptions options) : PipelineDbContext(options)
{
    public const string MigrationsHistoryTable = "__sandboxes_migrations";

    public DbSet<Sandbox> Sandboxes => Set<Sandbox>();
    public DbSet<InboxMessage> Inbox => Set<InboxMessage>();

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
        });
        modelBuilder.MapInbox("sandboxes_inbox");
    }
}

// One subclass per provider: each server provider keeps its own migrations in this assembly.
public sealed class SqliteSandboxesDbContext(DbContextOptions<SqliteSandboxesDbContext> options) : SandboxesDbContext(options);

public sealed class PostgreSqlSandboxesDbContext(DbContextOptions<PostgreSqlSandboxesDbContext> options) : SandboxesDbContext(options);

public sealed class SqlServerSandboxesDbContext(DbContextOptions<SqlServerSandboxesDbContext> options) : SandboxesDbContext(options);
