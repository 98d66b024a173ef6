using Microsoft.EntityFrameworkCore;
using Pipeline.Persistence.Inbox;

namespace Pipeline.Persistence.Deliveries;

/// <summary>The Deliveries service's tables: endpoints, events, deliveries and their attempts, its inbox.</summary>
public abstract class DeliveriesDbContext(DbContextOptions options) : PipelineDbContext(options)
{
    public const string MigrationsHistoryTable = "__deliveries_migrations";

    public DbSet<WebhookEndpoint> Endpoints => Set<WebhookEndpoint>();
    public DbSet<WebhookEvent> Events => Set<WebhookEvent>();
    public DbSet<WebhookDelivery> Deliveries => Set<WebhookDelivery>();
    public DbSet<DeliveryAttempt> Attempts => Set<DeliveryAttempt>();
    public DbSet<InboxMessage> Inbox => Set<InboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<WebhookEndpoint>(e =>
        {
            e.ToTable("webhook_endpoints");
            e.HasKey(x => x.Id);
            e.Property(x => x.Url).HasMaxLength(2048);
            e.Property(x => x.Description).HasMaxLength(500);
            e.Property(x => x.EventTypes).HasMaxLength(4000);
            e.Property(x => x.Headers).HasMaxLength(WebhookEndpoint.MaxHeadersLength);
            e.Property(x => x.Scheme).HasMaxLength(32);
            e.Property(x => x.DisabledReason).HasMaxLength(500);
            e.Property(x => x.Secret).HasMaxLength(100);
            e.Property(x => x.PreviousSecret).HasMaxLength(100);
            e.HasIndex(x => x.Enabled);
        });

        modelBuilder.Entity<WebhookEvent>(e =>
        {
            e.ToTable("webhook_events");
            e.HasKey(x => x.Id);
            e.Property(x => x.Id).HasMaxLength(64);
            e.Property(x => x.EventType).HasMaxLength(100);
            e.HasIndex(x => x.CreatedAt);
        });

        modelBuilder.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("webhook_deliveries");
            e.HasKey(x => x.Id);
            e.Property(x => x.EventId).HasMaxLength(64);
            e.Property(x => x.EventType).HasMaxLength(100);
            e.Property(x => x.Status).HasMaxLength(16);
            // A sender records an attempt only while the claim is still its own: the claim is the concurrency check.
            e.Property(x => x.LockedBy).HasMaxLength(100).IsConcurrencyToken();
            e.Property(x => x.LastError).HasMaxLength(DeliveryAttempt.MaxErrorChars);

            // One delivery per event and endpoint, whatever reaches the database (a resend reuses the row).
            e.HasIndex(x => new { x.EndpointId, x.EventId }).IsUnique();

            // An endpoint's lane claims its due rows in order of their due time.
            e.HasIndex(x => new { x.EndpointId, x.Status, x.NextAttemptAt });
            e.HasIndex(x => new { x.EndpointId, x.CreatedAt });
            e.HasIndex(x => new { x.Status, x.CreatedAt });
        });

        modelBuilder.Entity<DeliveryAttempt>(e =>
        {
            e.ToTable("webhook_delivery_attempts");
            e.HasKey(x => x.Id);
            e.Property(x => x.ResponseBody).HasMaxLength(DeliveryAttempt.MaxResponseBodyChars);
            e.Property(x => x.Error).HasMaxLength(DeliveryAttempt.MaxErrorChars);
            e.HasIndex(x => new { x.DeliveryId, x.Number });
            e.HasIndex(x => new { x.EndpointId, x.StartedAt });
        });

        modelBuilder.MapInbox("deliveries_inbox");
    }
}

// One subclass per provider: each server provider keeps its own migrations in this assembly.
public sealed class SqliteDeliveriesDbContext(DbContextOptions<SqliteDeliveriesDbContext> options) : DeliveriesDbContext(options);

public sealed class PostgreSqlDeliveriesDbContext(DbContextOptions<PostgreSqlDeliveriesDbContext> options) : DeliveriesDbContext(options);

public sealed class SqlServerDeliveriesDbContext(DbContextOptions<SqlServerDeliveriesDbContext> options) : DeliveriesDbContext(options);
