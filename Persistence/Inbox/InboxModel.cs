using Microsoft.EntityFrameworkCore;

namespace Pipeline.Persistence.Inbox;

public static class InboxModel
{
    /// <summary>Maps the inbox into a consumer service's own table.</summary>
    public static void MapInbox(this ModelBuilder modelBuilder, string table)
    {
        modelBuilder.Entity<InboxMessage>(e =>
        {
            e.ToTable(table);
            e.HasKey(x => new { x.MessageId, x.Consumer });
            e.Property(x => x.Consumer).HasMaxLength(200);
            e.HasIndex(x => x.ProcessedAt); // the retention purge deletes the oldest first
        });
    }
}
