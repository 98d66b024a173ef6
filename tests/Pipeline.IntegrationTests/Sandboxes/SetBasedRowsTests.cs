using Microsoft.EntityFrameworkCore;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.Persistence;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.IntegrationTests.Sandboxes;

/// <summary>
/// Set-based writes of whole entities (<see cref="PostgreSqlWrites"/>) on a real PostgreSQL, with the sandbox registry's
/// rows: every column round-trips, nulls included; an update whose row's version moved since it was read fails the
/// batch and changes nothing; an upsert replaces what is there and inserts the rest.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class SetBasedRowsTests(TestServices services) : SandboxesScratchTests(services, "rows")
{
    [Fact]
    public async Task Inserted_rows_read_back_column_for_column_and_an_update_of_a_moved_version_fails_the_batch()
    {
        var at = new DateTime(2026, 12, 2, 10, 11, 12, 345, DateTimeKind.Utc);
        var full = new Sandbox
        {
            SandboxId = "sbx-full", State = "paused", TemplateId = "tpl", TeamId = "team", BuildId = "build", ExecutionId = "exec",
            Metadata = """{"a":"b"}""", CreatedAt = at, StateChangedAt = at.AddSeconds(1), LastEventAt = at.AddSeconds(2),
            RunningSince = at.AddSeconds(3), PausedAt = at.AddSeconds(4), KilledAt = at.AddSeconds(5), BilledRunningSeconds = 12.5,
            EventCount = 7, History = "[]", UpdatedAt = at.AddSeconds(6), StaleAt = at.AddSeconds(7), Version = 3,
        };
        var sparse = new Sandbox { SandboxId = "sbx-sparse", State = "running", StateChangedAt = at, LastEventAt = at, UpdatedAt = at, Version = 1 };
        var other = new Sandbox { SandboxId = "sbx-other", State = "running", StateChangedAt = at, LastEventAt = at, UpdatedAt = at, Version = 1 };
        await WriteAsync(db => new PostgreSqlWrites(db).Insert([full, sparse, other]).ExecuteAsync(CancellationToken.None));

        var stored = await ReadAsync();
        Assert.Equivalent(full, stored["sbx-full"], strict: true);
        Assert.Equivalent(sparse, stored["sbx-sparse"], strict: true);

        // sbx-other moved on (another writer) after it was read at version 1.
        await WriteAsync(db => db.Sandboxes.Where(s => s.SandboxId == "sbx-other").ExecuteUpdateAsync(u => u.SetProperty(s => s.Version, 2)));
        full.State = "killed";
        full.Version = 4;
        sparse.EventCount = 1;
        sparse.Metadata = "{}";
        sparse.Version = 2;
        other.State = "killed";
        other.Version = 2;
        var refused = await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() =>
            WriteAsync(db => new PostgreSqlWrites(db).Update([(full, 3), (sparse, 1), (other, 1)]).ExecuteAsync(CancellationToken.None)));

        Assert.StartsWith("1 of 3 rows of sandboxes changed", refused.Message);
        stored = await ReadAsync();
        Assert.Equal("paused", stored["sbx-full"].State); // the batch's transaction rolled back
        Assert.Equal("running", stored["sbx-other"].State);

        await WriteAsync(db => new PostgreSqlWrites(db).Update([(full, 3), (sparse, 1)]).ExecuteAsync(CancellationToken.None));
        stored = await ReadAsync();
        Assert.Equivalent(full, stored["sbx-full"], strict: true);
        Assert.Equivalent(sparse, stored["sbx-sparse"], strict: true);
        Assert.Equal(2, stored["sbx-other"].Version);
    }

    [Fact]
    public async Task An_upsert_replaces_every_column_of_a_row_that_is_there_and_inserts_the_others()
    {
        var at = new DateTime(2026, 12, 2, 10, 11, 12, DateTimeKind.Utc);
        var old = new Sandbox { SandboxId = "sbx-old", State = "running", TeamId = "team", StateChangedAt = at, LastEventAt = at, UpdatedAt = at, Version = 1 };
        await WriteAsync(db => new PostgreSqlWrites(db).Insert([old]).ExecuteAsync(CancellationToken.None));

        var replaced = new Sandbox { SandboxId = "sbx-old", State = "killed", StateChangedAt = at.AddSeconds(1), LastEventAt = at, UpdatedAt = at, Version = 2 };
        var added = new Sandbox { SandboxId = "sbx-new", State = "running", StateChangedAt = at, LastEventAt = at, UpdatedAt = at, Version = 1 };
        await WriteAsync(db => new PostgreSqlWrites(db).Upsert([replaced, added]).ExecuteAsync(CancellationToken.None));

        var stored = await ReadAsync();
        Assert.Equivalent(replaced, stored["sbx-old"], strict: true); // TeamId replaced by null too
        Assert.Equivalent(added, stored["sbx-new"], strict: true);
    }

    private Task WriteAsync(Func<SandboxesDbContext, Task> write) => WithContextAsync(async db =>
    {
        await using var transaction = await db.Database.BeginTransactionAsync(); // as a writer calls them: in its transaction
        await write(db);
        await transaction.CommitAsync();
        return true;
    });

    private Task<Dictionary<string, Sandbox>> ReadAsync() => WithContextAsync(db => db.Sandboxes.AsNoTracking().ToDictionaryAsync(s => s.SandboxId));
}
