using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Pipeline.Persistence.Credits;
using Pipeline.Persistence.Deliveries;
using Pipeline.Persistence.Ingress;
using Pipeline.Persistence.Rooms;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.Persistence;

// Used by `dotnet ef migrations add` and by the test that compares the model with the migrations.
// No connection is opened; the strings only select the provider.
public static class DesignTime
{
    public const string PostgreSql = "Host=127.0.0.1;Database=pipeline_design";
    public const string SqlServer = "Server=127.0.0.1;Database=pipeline_design;TrustServerCertificate=true";

    public static DbContextOptions<T> Options<T>(DatabaseProvider provider, string historyTable) where T : DbContext =>
        (DbContextOptions<T>)new DbContextOptionsBuilder<T>()
            .UsePipelineProvider(provider, provider == DatabaseProvider.PostgreSql ? PostgreSql : SqlServer, historyTable)
            .Options;
}

public sealed class PostgreSqlIngressFactory : IDesignTimeDbContextFactory<PostgreSqlIngressDbContext>
{
    public PostgreSqlIngressDbContext CreateDbContext(string[] args) =>
        new(DesignTime.Options<PostgreSqlIngressDbContext>(DatabaseProvider.PostgreSql, IngressDbContext.MigrationsHistoryTable));
}

public sealed class SqlServerIngressFactory : IDesignTimeDbContextFactory<SqlServerIngressDbContext>
{
    public SqlServerIngressDbContext CreateDbContext(string[] args) =>
        new(DesignTime.Options<SqlServerIngressDbContext>(DatabaseProvider.SqlServer, IngressDbContext.MigrationsHistoryTable));
}

public sealed class PostgreSqlSandboxesFactory : IDesignTimeDbContextFactory<PostgreSqlSandboxesDbContext>
{
    public PostgreSqlSandboxesDbContext CreateDbContext(string[] args) =>
        new(DesignTime.Options<PostgreSqlSandboxesDbContext>(DatabaseProvider.PostgreSql, SandboxesDbContext.MigrationsHistoryTable));
}

public sealed class SqlServerSandboxesFactory : IDesignTimeDbContextFactory<SqlServerSandboxesDbContext>
{
    public SqlServerSandboxesDbContext CreateDbContext(string[] args) =>
        new(DesignTime.Options<SqlServerSandboxesDbContext>(DatabaseProvider.SqlServer, SandboxesDbContext.MigrationsHistoryTable));
}

public sealed class PostgreSqlRoomsFactory : IDesignTimeDbContextFactory<PostgreSqlRoomsDbContext>
{
    public PostgreSqlRoomsDbContext CreateDbContext(string[] args) =>
        new(DesignTime.Options<PostgreSqlRoomsDbContext>(DatabaseProvider.PostgreSql, RoomsDbContext.MigrationsHistoryTable));
}

public sealed class SqlServerRoomsFactory : IDesignTimeDbContextFactory<SqlServerRoomsDbContext>
{
    public SqlServerRoomsDbContext CreateDbContext(string[] args) =>
        new(DesignTime.Options<SqlServerRoomsDbContext>(DatabaseProvider.SqlServer, RoomsDbContext.MigrationsHistoryTable));
}

public sealed class PostgreSqlCreditsFactory : IDesignTimeDbContextFactory<PostgreSqlCreditsDbContext>
{
    public PostgreSqlCreditsDbContext CreateDbContext(string[] args) =>
        new(DesignTime.Options<PostgreSqlCreditsDbContext>(DatabaseProvider.PostgreSql, CreditsDbContext.MigrationsHistoryTable));
}

public sealed class SqlServerCreditsFactory : IDesignTimeDbContextFactory<SqlServerCreditsDbContext>
{
    public SqlServerCreditsDbContext CreateDbContext(string[] args) =>
        new(DesignTime.Options<SqlServerCreditsDbContext>(DatabaseProvider.SqlServer, CreditsDbContext.MigrationsHistoryTable));
}

public sealed class PostgreSqlDeliveriesFactory : IDesignTimeDbContextFactory<PostgreSqlDeliveriesDbContext>
{
    public PostgreSqlDeliveriesDbContext CreateDbContext(string[] args) =>
        new(DesignTime.Options<PostgreSqlDeliveriesDbContext>(DatabaseProvider.PostgreSql, DeliveriesDbContext.MigrationsHistoryTable));
}

public sealed class SqlServerDeliveriesFactory : IDesignTimeDbContextFactory<SqlServerDeliveriesDbContext>
{
    public SqlServerDeliveriesDbContext CreateDbContext(string[] args) =>
        new(DesignTime.Options<SqlServerDeliveriesDbContext>(DatabaseProvider.SqlServer, DeliveriesDbContext.MigrationsHistoryTable));
}
