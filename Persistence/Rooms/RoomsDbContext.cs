using Microsoft.EntityFrameworkCore;
using Pipeline.Persistence.Inbox;

namespace Pipeline.Persistence.Rooms;

/// <summary>The Rooms service's tables: rooms, participant sessions, tracks, egress results, applied event ids, inbox.</summary>
public abstract class RoomsDbContext(DbContextOptions options) : PipelineDbContext(options)
{
    public const string MigrationsHistoryTable = "__rooms_migrations";

    public DbSet<Room> Rooms => Set<Room>();
    public DbSet<ParticipantSession> Sessions => Set<ParticipantSession>();
    public DbSet<RoomTrack> Tracks => Set<RoomTrack>();
    public DbSet<EgressResult> Egress => Set<EgressResult>();
    public DbSet<RoomEvent> Events => Set<RoomEvent>();
    public DbSet<InboxMessage> Inbox => Set<InboxMessage>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Room>(e =>
        {
            e.ToTable("rooms");
            e.HasKey(x => x.Sid);
            e.Property(x => x.Sid).HasMaxLength(ColumnLengths.RoomSid);
            e.Property(x => x.Name).HasMaxLength(256);
            e.Property(x => x.Status).HasMaxLength(16);
            e.Property(x => x.Version).IsConcurrencyToken();
            e.HasIndex(x => x.Name);
            // By status (the read API, the active gauge), and the finished ones by age for the retention purge.
            e.HasIndex(x => new { x.Status, x.UpdatedAt });
        });
        modelBuilder.Entity<ParticipantSession>(e =>
        {
            e.ToTable("room_participant_sessions");
            e.HasKey(x => new { x.RoomSid, x.ParticipantSid });
            e.Property(x => x.RoomSid).HasMaxLength(ColumnLengths.RoomSid);
            e.Property(x => x.ParticipantSid).HasMaxLength(ColumnLengths.RoomSid);
            e.Property(x => x.Identity).HasMaxLength(256);
            e.Property(x => x.Name).HasMaxLength(256);
            e.Property(x => x.EndReason).HasMaxLength(32);
        });
        modelBuilder.Entity<RoomTrack>(e =>
        {
            e.ToTable("room_tracks");
            e.HasKey(x => new { x.RoomSid, x.TrackSid });
            e.Property(x => x.RoomSid).HasMaxLength(ColumnLengths.RoomSid);
            e.Property(x => x.TrackSid).HasMaxLength(ColumnLengths.RoomSid);
            e.Property(x => x.ParticipantSid).HasMaxLength(ColumnLengths.RoomSid);
            e.Property(x => x.Type).HasMaxLength(32);
            e.Property(x => x.Source).HasMaxLength(32);
            e.Property(x => x.Name).HasMaxLength(256);
            e.Property(x => x.MimeType).HasMaxLength(100);
            e.Property(x => x.EndReason).HasMaxLength(32);
        });
        modelBuilder.Entity<EgressResult>(e =>
        {
            e.ToTable("room_egress_results");
            e.HasKey(x => x.EgressId);
            e.Property(x => x.EgressId).HasMaxLength(ColumnLengths.RoomSid);
            e.Property(x => x.RoomSid).HasMaxLength(ColumnLengths.RoomSid);
            e.Property(x => x.RoomName).HasMaxLength(256);
            e.Property(x => x.Status).HasMaxLength(ColumnLengths.EgressStatus);
            e.Property(x => x.Error).HasMaxLength(2000);
            e.HasIndex(x => x.RoomSid);
        });
        modelBuilder.Entity<RoomEvent>(e =>
        {
            e.ToTable("room_events");
            e.HasKey(x => x.EventId);
            e.Property(x => x.EventId).HasMaxLength(ColumnLengths.RoomSid);
            e.Property(x => x.RoomSid).HasMaxLength(ColumnLengths.RoomSid);
            e.Property(x => x.Event).HasMaxLength(64);
            e.HasIndex(x => x.RoomSid);
        });
        modelBuilder.MapInbox("rooms_inbox");
    }
}

// One subclass per provider: each server provider keeps its own migrations in this assembly.
public sealed class SqliteRoomsDbContext(DbContextOptions<SqliteRoomsDbContext> options) : RoomsDbContext(options);

public sealed class PostgreSqlRoomsDbContext(DbContextOptions<PostgreSqlRoomsDbContext> options) : RoomsDbContext(options);

public sealed class SqlServerRoomsDbContext(DbContextOptions<SqlServerRoomsDbContext> options) : RoomsDbContext(options);
