using Microsoft.Extensions.DependencyInjection;
using Pipeline.Persistence;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.IntegrationTests.Infrastructure;

/// <summary>A test class with a scratch database of its own, migrated for the Sandboxes service's context.</summary>
public abstract class SandboxesScratchTests(TestServices services, string prefix) : IAsyncLifetime
{
    private ScratchDatabase _database = null!;
    private ServiceProvider _provider = null!;

    public async Task InitializeAsync()
    {
        _database = await ScratchDatabase.CreateAsync(services.Postgres, prefix);
        _provider = _database.SandboxesServices().BuildServiceProvider();
        await _provider.PrepareDatabaseAsync<SandboxesDbContext>();
    }

    public async Task DisposeAsync()
    {
        await _provider.DisposeAsync();
        await _database.DisposeAsync();
    }

    /// <summary>Runs <paramref name="work"/> with the context of a DI scope of its own.</summary>
    protected async Task<T> WithContextAsync<T>(Func<SandboxesDbContext, Task<T>> work)
    {
        await using var scope = _provider.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<SandboxesDbContext>());
    }
}
