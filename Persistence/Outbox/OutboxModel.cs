using Microsoft.EntityFrameworkCore;

namespace Pipeline.Persistence.Outbox;

/// <summary>A context whose service publishes through its own outbox table.</summary>
public interface IOutboxDbContext
{
    DbSet<OutboxMessage> Outbox { get; }
}

public static class OutboxModel
{
    /// <summary>Maps the outbox into a service's own table.</summary>
    public static void MapOutbox(this ModelBuilder modelBuilder, string table)
    {
        modelBuilder.Entity<OutboxMessage>(e =>
        {
            e.ToTable(table);
            e.HasKey(x => x.Id);
            e.Property(x => x.MessageType).HasMaxLength(300);
            e.Property(x => x.LockedBy).HasMaxLength(100);
            e.Property(x => x.LastError).HasMaxLength(2000);
            e.Property(x => x.TraceParent).HasMaxLength(64);
            e.HasIndex(x => new { x.SentAt, x.CreatedAt });
            e.HasIndex(x => x.ReceiptId);
        });
    }
}
