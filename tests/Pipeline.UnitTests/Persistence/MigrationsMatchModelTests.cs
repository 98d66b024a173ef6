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
    // Every design-time factory in Persistence: a new context is covered as soon as it has one.
    private static readonly Dictionary<string, Func<DbContext>> Factories = typeof(DesignTime).Assembly.GetTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false })
        .SelectMany(t => t.GetInterfaces()
            .Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDesignTimeDbContextFactory<>))
            .Select(i => (Context: i.GetGenericArguments()[0], Factory: t)))
        .ToDictionary(
            x => x.Context.Name,
            x => (Func<DbContext>)(() => (DbContext)x.Factory.GetMethod("CreateDbContext")!.Invoke(Activator.CreateInstance(x.Factory), [Array.Empty<string>()])!));

    public static TheoryData<string> Contexts => new(Factories.Keys.Order());

    private static DbContext Create(string context) => Factories[context]();

    [Fact]
    public void Every_server_provider_context_has_a_design_time_factory()
    {
        var contexts = typeof(DesignTime).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && t.IsSubclassOf(typeof(PipelineDbContext)) && !t.Name.StartsWith("Sqlite", StringComparison.Ordinal))
            .Select(t => t.Name);

        Assert.Equal(contexts.Order(), Factories.Keys.Order());
        Assert.Contains(nameof(PostgreSqlIngressDbContext), Factories.Keys);
        Assert.Contains(nameof(SqlServerSandboxesDbContext), Factories.Keys);
    }

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
