using System.ComponentModel.DataAnnotations;

namespace Pipeline.Persistence;

public enum DatabaseProvider
{
    Sqlite,
    PostgreSql,
    SqlServer,
}

/// <summary>The <c>Database</c> section: which provider every context of this process uses.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    [Required]
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Apply migrations (server providers) or create the schema (SQLite) when the service starts.</summary>
    public bool MigrateOnStartup { get; set; } = true;

    /// <summary>
    /// How long a starting replica waits for another that is migrating the same service's tables before it gives up
    /// (and, in Kubernetes, is restarted to try again).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MigrationLockTimeout { get; set; } = TimeSpan.FromMinutes(5);
}
