using System.Collections.Concurrent;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Pipeline.Hosting.Outbox;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.Messages.Webhooks;
using Pipeline.Persistence;
using Pipeline.Persistence.Ingress;
using Pipeline.Persistence.Outbox;

namespace Pipeline.IntegrationTests.Ingress;

/// <summary>
/// Ingress's outbox dispatcher on a real PostgreSQL and RabbitMQ: a commit's rows are published while the rows published
/// before them still wait for the broker, instead of after them.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class OutboxRoundsTests(TestServices services) : IAsyncLifetime
{
    private readonly HeldPublishes _held = new();
    private readonly string _vhost = $"rounds-{Guid.NewGuid():N}"[..19];
    private HttpClient _management = null!;
    private ScratchDatabase _database = null!;
    private ServiceProvider _provider = null!;

    public async Task InitializeAsync()
    {
        _management = services.ManagementClient();
        await TestServices.CreateVhostAsync(_management, _vhost);

        _database = await ScratchDatabase.CreateAsync(services.Postgres, "rounds");
        var collection = _database.IngressServices()
            .Configure<OutboxOptions>(o =>
            {
                o.PublishRounds = 4;
                o.CompleteDelay = TimeSpan.Zero; // a confirmed row leaves the table at once: what the test watches
            })
            .AddSingleton<OutboxSignal<IngressDbContext>>()
            .AddScoped<OutboxStore<IngressDbContext>>()
            .AddSingleton<OutboxDispatcher<IngressDbContext>>()
            .AddMassTransit(x => x.UsingRabbitMq((_, cfg) => cfg.Host(new Uri(services.RabbitMq, _vhost))));
        _provider = collection.BuildServiceProvider();
        await _provider.PrepareDatabaseAsync<IngressDbContext>();
        var bus = _provider.GetRequiredService<IBusControl>();
        bus.ConnectPublishObserver(_held);
        await bus.StartAsync();
    }

    public async Task DisposeAsync()
    {
        _held.ReleaseAll();
        await _provider.GetRequiredService<IBusControl>().StopAsync();
        await _provider.DisposeAsync();
        await _database.DisposeAsync();
        await _management.DeleteAsync($"api/vhosts/{_vhost}");
        _management.Dispose();
    }

    [Fact]
    public async Task A_commits_rows_are_published_while_earlier_rows_wait_for_their_confirms()
    {
        var dispatcher = _provider.GetRequiredService<OutboxDispatcher<IngressDbContext>>();
        await dispatcher.StartAsync(CancellationToken.None);
        try
        {
            // The first commit's rows are held on their way to the broker, so none is confirmed.
            var first = Rows("first", 3);
            _held.Hold(Ids(first));
            await CommitAndHandOverAsync(first);
            await Eventually.WaitAsync(() => Task.FromResult(_held.Waiting(Ids(first)) == first.Count), TimeSpan.FromSeconds(30),
                "the first rows to be published and held");

            // The next commit's rows are published and confirmed (and leave the table) meanwhile.
            var second = Rows("second", 3);
            await CommitAndHandOverAsync(second);
            await Eventually.WaitAsync(async () => (await PendingAsync()).SetEquals(Ids(first)), TimeSpan.FromSeconds(30),
                "the second rows to be confirmed while the first are held");
            Assert.Equal(Ids(second).Order(), _held.Confirmed.Order());
            Assert.Equal(first.Count, _held.Waiting(Ids(first)));

            _held.ReleaseAll();
            await Eventually.WaitAsync(async () => (await PendingAsync()).Count == 0, TimeSpan.FromSeconds(30),
                "the first rows to be confirmed once let through");
            Assert.Equal(Ids(first).Concat(Ids(second)).Order(), _held.Confirmed.Order());
        }
        finally
        {
            _held.ReleaseAll(); // a held publish would keep the dispatcher's stop waiting for it
            await dispatcher.StopAsync(CancellationToken.None);
        }
    }

    private static List<OutboxMessage> Rows(string name, int count)
    {
        var now = DateTime.UtcNow;
        return Enumerable.Range(0, count).Select(i => OutboxRegistration.Row(new WebhookReceivedV1
        {
            Source = "rounds", EventId = $"{name}-{i}", Headers = new Dictionary<string, string>(), Body = "{}",
            ReceivedAt = now, ReceiptId = Guid.CreateVersion7(),
        }, receiptId: null, now)).ToList();
    }

    private static HashSet<Guid> Ids(List<OutboxMessage> rows) => rows.Select(r => r.Id).ToHashSet();

    /// <summary>Writes rows leased to this process's dispatcher and hands them over after the commit, as Ingress does.</summary>
    private async Task CommitAndHandOverAsync(List<OutboxMessage> rows)
    {
        var signal = _provider.GetRequiredService<OutboxSignal<IngressDbContext>>();
        Assert.True(signal.TryLease(rows, DateTime.UtcNow));
        await using (var scope = _provider.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
            db.Outbox.AddRange(rows);
            await db.SaveChangesAsync();
        }

        signal.Handoff(rows, rows.Count);
    }

    private async Task<HashSet<Guid>> PendingAsync()
    {
        await using var scope = _provider.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<IngressDbContext>().Outbox.Select(r => r.Id).ToListAsync()).ToHashSet();
    }

    /// <summary>Holds the publishes of chosen messages before they are sent, until let through; records the confirmed ones.</summary>
    private sealed class HeldPublishes : IPublishObserver
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentDictionary<Guid, byte> _waiting = new();
        private HashSet<Guid> _held = [];

        public ConcurrentBag<Guid> Confirmed { get; } = [];

        public void Hold(HashSet<Guid> ids) => _held = ids;

        public int Waiting(HashSet<Guid> ids) => ids.Count(_waiting.ContainsKey);

        public void ReleaseAll() => _gate.TrySetResult();

        public async Task PrePublish<T>(PublishContext<T> context) where T : class
        {
            if (context.MessageId is { } id && _held.Contains(id))
            {
                _waiting[id] = 0;
                await _gate.Task;
            }
        }

        public Task PostPublish<T>(PublishContext<T> context) where T : class
        {
            Confirmed.Add(context.MessageId!.Value);
            return Task.CompletedTask;
        }

        public Task PublishFault<T>(PublishContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }
}
