using Microsoft.EntityFrameworkCore;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.Persistence.Inbox;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.IntegrationTests.Sandboxes;

/// <summary>
/// The inbox on a real PostgreSQL (here the Sandboxes service's): a message's effect is applied once, whether its copies
/// come in one batch, in a later batch, or in a batch committing at the same time; a message the consumer skipped gets
/// no inbox row. The effect of a message in these tests is a sandbox row named after it, which a second application
/// could not insert.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class InboxTests(TestServices services) : SandboxesScratchTests(services, "inbox")
{
    private const string Consumer = "tests.inbox";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_message_is_applied_once_across_its_copies_in_a_batch_and_a_later_redelivery()
    {
        var (a, b, c, d) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        Assert.Equal(new[] { true, true, false, true }, await ApplyAsync([a, b, a, c]));
        Assert.Equal(new[] { false, true, false }, await ApplyAsync([c, d, a]));

        Assert.Equal(Names(a, b, c, d), await EffectsAsync());
        Assert.Equal(Names(a, b, c, d), await InboxAsync());
    }

    [Fact]
    public async Task A_message_the_consumer_skips_gets_no_inbox_row_and_is_applied_when_it_comes_again()
    {
        var (a, b) = (Guid.NewGuid(), Guid.NewGuid());

        Assert.Equal(new[] { true, false }, await ApplyAsync([a, b], skip: [1]));
        Assert.Equal(Names(a), await InboxAsync());

        Assert.Equal(new[] { false, true }, await ApplyAsync([a, b]));
        Assert.Equal(Names(a, b), await EffectsAsync());
        Assert.Equal(Names(a, b), await InboxAsync());
    }

    [Fact]
    public async Task Of_two_batches_applying_the_same_messages_at_once_the_second_waits_and_takes_only_the_others()
    {
        var ids = Enumerable.Range(0, 15).Select(_ => Guid.NewGuid()).ToList();
        var first = ids.Take(10).ToList();
        var second = ids.Skip(5).ToList();

        var (firstRelease, firstHolding, firstBatch) = StartHeld(first);
        await firstHolding;
        var secondBatch = Task.Run(() => ApplyAsync(second));
        await WaitForLockWaitAsync();
        Assert.False(secondBatch.IsCompleted, "the second batch waits for the first one's inbox rows");

        firstRelease.SetResult();
        Assert.All(await firstBatch, Assert.True);
        Assert.Equal(Enumerable.Range(0, second.Count).Select(i => i >= 5).ToArray(), await secondBatch);
        Assert.Equal(Names([.. ids]), await EffectsAsync());
        Assert.Equal(Names([.. ids]), await InboxAsync());
    }

    [Fact]
    public async Task When_the_batch_holding_a_message_rolls_back_a_batch_waiting_for_it_applies_it()
    {
        var ids = Enumerable.Range(0, 6).Select(_ => Guid.NewGuid()).ToList();

        var (firstRelease, firstHolding, firstBatch) = StartHeld(ids, fail: true);
        await firstHolding;
        var secondBatch = Task.Run(() => ApplyAsync(ids));
        await WaitForLockWaitAsync();

        firstRelease.SetResult();
        await Assert.ThrowsAsync<InvalidOperationException>(() => firstBatch);
        Assert.All(await secondBatch, Assert.True);
        Assert.Equal(Names([.. ids]), await EffectsAsync());
        Assert.Equal(Names([.. ids]), await InboxAsync());
    }

    /// <summary>A batch that stops inside its effects (its inbox rows inserted, uncommitted) until released.</summary>
    private (TaskCompletionSource Release, Task Holding, Task<bool[]> Batch) StartHeld(IReadOnlyList<Guid> ids, bool fail = false)
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var batch = Task.Run(() => ApplyAsync(ids, hold: async () =>
        {
            holding.SetResult();
            await release.Task;
            if (fail)
            {
                throw new InvalidOperationException("the batch fails after its inbox rows were inserted");
            }
        }));
        return (release, holding.Task, batch);
    }

    private Task<bool[]> ApplyAsync(IReadOnlyList<Guid> ids, IReadOnlyCollection<int>? skip = null, Func<Task>? hold = null) =>
        WithContextAsync(db => Inbox.ApplyBatchOnceAsync(db, ids, Consumer, async (indexes, _) =>
        {
            foreach (var i in indexes.Except(skip ?? []))
            {
                db.Sandboxes.Add(new Sandbox { SandboxId = ids[i].ToString(), State = "running", UpdatedAt = DateTime.UtcNow });
            }

            if (hold is not null)
            {
                await hold();
            }

            return skip ?? [];
        }, CancellationToken.None));

    /// <summary>Until a session of this database waits for a lock: the second batch is blocked on the first one's rows.</summary>
    private Task WaitForLockWaitAsync() => Eventually.WaitAsync(() => WithContextAsync(db => db.Database.SqlQueryRaw<int>(
            "SELECT count(*)::int AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")
            .SingleAsync()),
        n => n > 0, Deadline, "the second batch to wait for the first one's inbox rows");

    private Task<string[]> EffectsAsync() => WithContextAsync(async db =>
        (await db.Sandboxes.Select(s => s.SandboxId).ToListAsync()).Order(StringComparer.Ordinal).ToArray());

    private Task<string[]> InboxAsync() => WithContextAsync(async db =>
        (await db.Inbox.Where(m => m.Consumer == Consumer).Select(m => m.MessageId).ToListAsync()).Select(id => id.ToString()).Order(StringComparer.Ordinal).ToArray());

    private static string[] Names(params Guid[] ids) => [.. ids.Select(id => id.ToString()).Order(StringComparer.Ordinal)];
}
