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
}
