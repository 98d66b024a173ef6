using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Pipeline.IntegrationTests.Faults;
using Pipeline.IntegrationTests.Infrastructure;
using RabbitMQ.Client;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Ops;

/// <summary>
/// Dead-letter operations name a queue the way operators think of it, by the consumer queue ("--queue
/// sandboxes-lifecycle"). Whatever they name, only its <c>_error</c> queue is listed, browsed, replayed or purged: the
/// live queue holds webhooks Ingress already answered 2xx to, and no dead-letter command may take them.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class DeadLetterLiveQueueTests(TestServices services, ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private const string Queue = "sandboxes-lifecycle";
    private const string ErrorQueue = Queue + "_error";
    private const int Live = 5;

    [Fact]
    public async Task Purge_and_replay_named_by_the_consumer_queue_touch_only_its_dead_letters_never_the_live_messages()
    {
        var adminKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            IngressEnvironment = { ["ADMIN_API_KEY"] = adminKey },
        });

        // The consumer is down (a deploy, an outage): accepted webhooks wait in the live queue.
        await pipeline.Sandboxes.StopAsync();
        for (var i = 0; i < Live; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(E2bEvents.V2("create", $"sbx-live-{i}", DateTime.UtcNow))).StatusCode);
        }

        await Eventually.WaitAsync(() => Broker.ReadyAsync(services, pipeline, Queue), n => n == Live, Deadline,
            $"{Live} accepted webhooks waiting in {Queue}", pipeline.Diagnostics);

        // Looking: only the dead-letter queue is reported, and no live message is read.
        await AddDeadLetterAsync(pipeline);
        foreach (var args in new[] { new[] { "count", "--queue", Queue }, ["list", "--queue", Queue], ["list"], ["count", "--queue", Queue + "_isolated"] })
        {
            var view = await pipeline.RunOpsAsync(["dead-letters", .. args]);
            output.WriteLine($"dead-letters {string.Join(' ', args)}:{Environment.NewLine}{view.Output}{view.Error}");
            Assert.Equal(0, view.ExitCode);
            Assert.Contains($"{ErrorQueue}: 1 dead letters", view.Output);
            Assert.DoesNotContain($"{Queue}: ", view.Output);
        }

        var counts = await AdminAsync(pipeline, adminKey, HttpMethod.Get, $"api/admin/dead-letters/counts?queue={Queue}");
        Assert.Equal(ErrorQueue, Assert.Single(counts.EnumerateArray()).GetProperty("queue").GetString());

        // The README's purge, by the consumer queue's name: the dead letter goes, the live messages stay.
        var purge = await pipeline.RunOpsAsync("dead-letters", "purge", "--queue", Queue, "--yes");
        output.WriteLine(purge.Output + purge.Error);
        Assert.Equal(0, purge.ExitCode);
        Assert.Contains("purged 1 of 1 matching (1 scanned)", purge.Output);
        await AssertQueuesAsync(pipeline, live: Live, deadLetters: 0);

        // The same through the admin API (what the dashboard calls).
        await AddDeadLetterAsync(pipeline);
        var purged = await AdminAsync(pipeline, adminKey, HttpMethod.Post, "api/admin/dead-letters/purge", new { queue = Queue, confirm = true });
        Assert.Equal((1, 1), (purged.GetProperty("scanned").GetInt32(), purged.GetProperty("replayed").GetInt32()));
        await AssertQueuesAsync(pipeline, live: Live, deadLetters: 0);

        // Replay by the consumer queue's name moves the dead letter back and leaves the live messages alone.
        await AddDeadLetterAsync(pipeline);
        var replay = await pipeline.RunOpsAsync("dead-letters", "replay", "--queue", Queue);
        output.WriteLine(replay.Output + replay.Error);
        Assert.Equal(0, replay.ExitCode);
        Assert.Contains("replayed 1 of 1 matching (1 scanned)", replay.Output);
        await AssertQueuesAsync(pipeline, live: Live + 1, deadLetters: 0);

        await AddDeadLetterAsync(pipeline);
        var replayed = await AdminAsync(pipeline, adminKey, HttpMethod.Post, "api/admin/dead-letters/replay", new { queue = Queue });
        Assert.Equal((1, 1), (replayed.GetProperty("scanned").GetInt32(), replayed.GetProperty("replayed").GetInt32()));
        await AssertQueuesAsync(pipeline, live: Live + 2, deadLetters: 0);

        // No dead-letter command read a live message: none of them comes back marked redelivered.
        var peeked = await Broker.PeekRedeliveredAsync(services, pipeline, Queue, Live + 2);
        Assert.Equal(Live + 2, peeked.Count);
        Assert.DoesNotContain(true, peeked);

        // Once the consumer is back, every accepted webhook takes effect; the two replayed letters fail again.
        await pipeline.Sandboxes.StartAsync();
        await Eventually.WaitAsync(() => pipeline.CountAsync("SELECT count(*) FROM sandboxes"), n => n == Live, Deadline,
            "every accepted webhook applied", pipeline.Diagnostics);
        await Eventually.WaitAsync(() => Broker.ReadyAsync(services, pipeline, ErrorQueue), n => n == 2, Deadline,
            "the replayed letters back in the dead letters", pipeline.Diagnostics);
    }

    /// <summary>A letter that no consumer can read (not JSON), put straight into the dead-letter queue.</summary>
    private async Task AddDeadLetterAsync(PipelineTopology pipeline)
    {
        var factory = new ConnectionFactory { Uri = new Uri(services.RabbitMq, pipeline.Name) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var properties = new BasicProperties
        {
            MessageId = Guid.NewGuid().ToString(),
            ContentType = "application/vnd.masstransit+json",
            Persistent = true,
            Headers = new Dictionary<string, object?>
            {
                ["MT-Fault-ExceptionType"] = "System.Text.Json.JsonException",
                ["MT-Fault-Message"] = "not JSON",
                ["MT-Fault-Timestamp"] = DateTimeOffset.UtcNow.ToString("O"),
            },
        };
        await channel.BasicPublishAsync("", ErrorQueue, mandatory: true, properties, "not json"u8.ToArray());
        await Eventually.WaitAsync(() => Broker.ReadyAsync(services, pipeline, ErrorQueue), n => n == 1, Deadline, "one dead letter");
    }

    private async Task AssertQueuesAsync(PipelineTopology pipeline, uint live, uint deadLetters) =>
        Assert.Equal((live, deadLetters), (await Broker.ReadyAsync(services, pipeline, Queue), await Broker.ReadyAsync(services, pipeline, ErrorQueue)));

    private static async Task<JsonElement> AdminAsync(PipelineTopology pipeline, string adminKey, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminKey);
        using var response = await pipeline.IngressHttp.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}
