using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Pipeline.Persistence;
using Pipeline.Persistence.Ingress;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.UnitTests.Persistence;

/// <summary>
/// The checked-in migrations of each server provider match the model: a model change without
/// `dotnet ef migrations add` fails here. No database connection is opened.
/// </summary>
public class MigrationsMatchModelTests
{
    public static TheoryData<string> Contexts => new()
    {
        nameof(PostgreSqlIngressDbContext),
        nameof(SqlServerIngressDbContext),
        nameof(PostgreSqlSandboxesDbContext),
        nameof(SqlServerSandboxesDbContext),
    };

    // By name, so each context is its own test case in the runner.
    private static DbContext Create(string context) => context switch
    {
        nameof(PostgreSqlIngressDbContext) => Build(new PostgreSqlIngressFactory()),
        nameof(SqlServerIngressDbContext) => Build(new SqlServerIngressFactory()),
        nameof(PostgreSqlSandboxesDbContext) => Build(new PostgreSqlSandboxesFactory()),
        nameof(SqlServerSandboxesDbContext) => Build(new SqlServerSandboxesFactory()),
        _ => throw new ArgumentOutOfRangeException(nameof(context), context, null),
    };

    private static T Build<T>(IDesignTimeDbContextFactory<T> factory) where T : DbContext => factory.CreateDbContext([]);

    [Theory]
    [MemberData(nameof(Contexts))]
    public void Model_has_no_changes_missing_from_the_migrations(string context)
    {
        using var db = Create(context);

        Assert.Equal(context, db.GetType().Name);
        Assert.False(
            db.Database.HasPendingModelChanges(),
            $"{context}: the model differs from the last migration's snapshot; run Persistence/add-migration.sh.");
    }

    [Theory]
    [MemberData(nameof(Contexts))]
    public void Migrations_exist(string context)
    {
        using var db = Create(context);

        Assert.NotEmpty(db.Database.GetMigrations());
    }
}
