using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Pipeline.Consumers.Credits;
using Pipeline.Consumers.Sandboxes;
using Pipeline.Hosting.Batching;
using Pipeline.Ingress.Receipts;

namespace Pipeline.UnitTests.Hosting;

public sealed class GroupCommitTests
{
    [Fact]
    public async Task Items_waiting_while_a_commit_runs_share_the_next_one()
    {
        var release = new TaskCompletionSource();
        var batches = new ConcurrentQueue<int>();
        await using var commits = new GroupCommit<int, int>("test", async (items, _) =>
        {
            batches.Enqueue(items.Count);
            await release.Task;
            return items.Select(i => i * 2).ToList();
        }, new GroupCommitOptions { MaxBatch = 50, Writers = 1 }, NullLogger.Instance);

        var first = commits.SubmitAsync(0, CancellationToken.None);
        await WaitUntilAsync(() => batches.Count == 1);
        var rest = Enumerable.Range(1, 120).Select(i => commits.SubmitAsync(i, CancellationToken.None)).ToList();
        release.SetResult();

        Assert.Equal(0, await first);
        Assert.Equal(Enumerable.Range(1, 120).Select(i => i * 2), await Task.WhenAll(rest));
        Assert.Equal([1, 50, 50, 20], batches);
    }

    [Fact]
    public async Task A_failed_batch_is_committed_item_by_item_and_only_the_bad_item_fails()
    {
        var release = new TaskCompletionSource();
        await using var commits = new GroupCommit<int, int>("test", async (items, _) =>
        {
            await release.Task;
            return items.Contains(13) ? throw new InvalidOperationException("item 13 is refused") : items.Select(i => -i).ToList();
        }, new GroupCommitOptions { MaxBatch = 100, Writers = 1 }, NullLogger.Instance);

        var blocker = commits.SubmitAsync(0, CancellationToken.None);
        var tasks = Enumerable.Range(1, 30).Select(i => commits.SubmitAsync(i, CancellationToken.None)).ToList();
        release.SetResult();
        await blocker;

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => tasks[12]);
        Assert.Equal("item 13 is refused", failure.Message);
        Assert.All(Enumerable.Range(1, 30).Where(i => i != 13), i => Assert.Equal(-i, tasks[i - 1].Result));
    }

    [Fact]
    public async Task Items_of_one_key_are_committed_in_order_and_never_by_two_writers_at_once()
    {
        var busy = new ConcurrentDictionary<string, int>();
        var seen = new ConcurrentDictionary<string, ConcurrentQueue<int>>();
        var overlaps = 0;
        await using var commits = new GroupCommit<(string Key, int N), int>("test", async (items, _) =>
        {
            var keys = items.Select(i => i.Key).Distinct().ToList();
            foreach (var key in keys)
            {
                if (busy.AddOrUpdate(key, 1, (_, n) => n + 1) > 1)
                {
                    Interlocked.Increment(ref overlaps);
                }
            }

            await Task.Delay(1);
            foreach (var (key, n) in items)
            {
                seen.GetOrAdd(key, _ => new ConcurrentQueue<int>()).Enqueue(n);
            }

            foreach (var key in keys)
            {
                busy.AddOrUpdate(key, 0, (_, n) => n - 1);
            }

            return items.Select(i => i.N).ToList();
        }, new GroupCommitOptions { MaxBatch = 8, Writers = 4 }, NullLogger.Instance, item => item.Key);

        var keys = Enumerable.Range(0, 10).Select(k => $"account-{k}").ToList();
        // Submitted in order per key (one submitter per key), concurrently across keys.
        await Task.WhenAll(keys.Select(key => Task.Run(async () =>
        {
            var pending = Enumerable.Range(0, 200).Select(n => commits.SubmitAsync((key, n), CancellationToken.None)).ToList();
            await Task.WhenAll(pending);
        })));

        Assert.Equal(0, overlaps);
        Assert.All(keys, key => Assert.Equal(Enumerable.Range(0, 200), seen[key]));
    }

    [Fact]
    public async Task Each_transaction_is_timed_apart_from_the_wait_before_it()
    {
        var name = $"test-{Guid.NewGuid():N}";
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource();
        var inside = new ConcurrentQueue<TimeSpan>();
        await using var commits = new GroupCommit<int, int>(name, async (items, _) =>
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            if (items[0] == 0)
            {
                entered.SetResult();
                await release.Task; // the first transaction is slow; the items behind it wait, but are not in it
            }

            inside.Enqueue(clock.Elapsed);
            return items.ToList();
        }, new GroupCommitOptions { MaxBatch = 50, Writers = 1 }, NullLogger.Instance);

        var first = commits.SubmitAsync(0, CancellationToken.None);
        await entered.Task;
        var rest = Enumerable.Range(1, 5).Select(i => commits.SubmitAsync(i, CancellationToken.None)).ToList();
        await Task.Delay(300);
        release.SetResult();
        await first;
        await Task.WhenAll(rest);

        var timed = GroupCommitMetrics.Duration.WithLabels(name);
        var spent = inside.Sum(t => t.TotalSeconds);
        Assert.Equal(2, inside.Count);
        Assert.Equal(2, timed.Count);
        Assert.Equal(timed.Count, GroupCommitMetrics.BatchSize.WithLabels(name).Count);
        // The first transaction lasted about as long as the delay (a timer may fire a little early), and the items that
        // waited that long behind it did not carry their wait into their own transaction.
        Assert.True(spent >= 0.25, $"the first transaction took {spent} s");
        Assert.InRange(timed.Sum, spent, spent + 0.2);
    }

    [Fact]
    public async Task Disposing_commits_what_is_queued()
    {
        var release = new TaskCompletionSource();
        var commits = new GroupCommit<int, int>("test", async (items, _) =>
        {
            await release.Task;
            return items.ToList();
        }, new GroupCommitOptions { MaxBatch = 10, Writers = 1 }, NullLogger.Instance);
        var tasks = Enumerable.Range(0, 25).Select(i => commits.SubmitAsync(i, CancellationToken.None)).ToList();

        var disposed = commits.DisposeAsync().AsTask();
        release.SetResult();
        await disposed;

        Assert.All(tasks, t => Assert.True(t.IsCompletedSuccessfully));
        Assert.Equal(Enumerable.Range(0, 25), tasks.Select(t => t.Result));
    }

    [Fact]
    public async Task A_lingering_writer_commits_the_items_that_arrive_meanwhile_with_the_first()
    {
        var batches = new ConcurrentQueue<int>();
        await using var commits = new GroupCommit<int, int>("test", (items, _) =>
        {
            batches.Enqueue(items.Count);
            return Task.FromResult<IReadOnlyList<int>>(items.ToList());
        }, new GroupCommitOptions { MaxBatch = 50, Writers = 1, Linger = TimeSpan.FromSeconds(1) }, NullLogger.Instance);

        var first = commits.SubmitAsync(0, CancellationToken.None);
        await Task.Delay(200); // the others arrive well after the first, within its linger
        Assert.Empty(batches);
        var rest = Enumerable.Range(1, 9).Select(i => commits.SubmitAsync(i, CancellationToken.None)).ToList();

        Assert.Equal(0, await first);
        Assert.Equal(Enumerable.Range(1, 9), await Task.WhenAll(rest));
        Assert.Equal([10], batches);
    }

    [Theory]
    [InlineData(50, GroupCommit<int, int>.LingerBelow)] // eight or more share a commit well already
    [InlineData(4, 4)] // a full batch, even below eight
    public async Task A_batch_of_eight_or_more_or_a_full_one_is_committed_without_lingering(int maxBatch, int waiting)
    {
        var release = new TaskCompletionSource();
        var batches = new ConcurrentQueue<(int Count, DateTime At)>();
        var linger = TimeSpan.FromSeconds(1);
        await using var commits = new GroupCommit<int, int>("test", async (items, _) =>
        {
            batches.Enqueue((items.Count, DateTime.UtcNow));
            await release.Task;
            return items.ToList();
        }, new GroupCommitOptions { MaxBatch = maxBatch, Writers = 1, Linger = linger }, NullLogger.Instance);

        var first = commits.SubmitAsync(0, CancellationToken.None);
        await WaitUntilAsync(() => batches.Count == 1);
        var rest = Enumerable.Range(1, waiting).Select(i => commits.SubmitAsync(i, CancellationToken.None)).ToList();
        var released = DateTime.UtcNow;
        release.SetResult();
        await first;
        await Task.WhenAll(rest);

        Assert.Equal([1, waiting], batches.Select(b => b.Count));
        Assert.True(batches.Last().At - released < linger, $"a batch of {waiting} waited for its linger");
    }

    [Fact]
    public void Ingress_lingers_two_milliseconds_by_default_and_its_section_may_change_it()
    {
        static GroupCommitOptions Bind(Dictionary<string, string?> settings, TimeSpan linger)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
            var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration)
                .AddGroupCommitOptions(ReceiptWriter.GroupCommitName, ReceiptWriter.GroupCommitSection, linger);
            using var provider = services.BuildServiceProvider();
            return provider.GetRequiredService<IOptionsMonitor<GroupCommitOptions>>().Get(ReceiptWriter.GroupCommitName);
        }

        Assert.Equal(TimeSpan.FromMilliseconds(2), Bind([], ReceiptWriter.Linger).Linger);
        Assert.Equal(TimeSpan.Zero, Bind(new() { ["Ingress:GroupCommit:Linger"] = "00:00:00" }, ReceiptWriter.Linger).Linger);
        Assert.Equal(TimeSpan.Zero, Bind([], default).Linger);
        Assert.Throws<OptionsValidationException>(() => Bind(new() { ["Ingress:GroupCommit:Linger"] = "00:00:02" }, default));
    }

    [Theory]
    [InlineData("Sandboxes", null, 5)]
    [InlineData("Sandboxes", "00:00:00", 0)]
    [InlineData("Credits", null, 5)]
    [InlineData("Credits", "00:00:00.020", 20)]
    public void Sandboxes_and_Credits_linger_five_milliseconds_by_default_and_their_sections_may_change_it(
        string service, string? configured, int expectedMilliseconds)
    {
        // The service's whole registration, as its Program runs it; nothing connects to the database.
        var builder = WebApplication.CreateBuilder();
        var settings = new Dictionary<string, string?> { [$"ConnectionStrings:{service}"] = "Host=127.0.0.1;Database=unused" };
        if (configured is not null)
        {
            settings[$"{service}:GroupCommit:Linger"] = configured;
        }
        builder.Configuration.AddInMemoryCollection(settings);
        string name;
        if (service == "Sandboxes")
        {
            builder.AddSandboxes();
            name = SandboxLifecycleConsumer.Name;
        }
        else
        {
            builder.AddCredits();
            name = UsageRecordedConsumer.Name;
        }
        using var provider = builder.Services.BuildServiceProvider();

        Assert.Equal(TimeSpan.FromMilliseconds(expectedMilliseconds), provider.GetRequiredService<IOptionsMonitor<GroupCommitOptions>>().Get(name).Linger);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met in 10 s");
            await Task.Delay(5);
        }
    }
}
