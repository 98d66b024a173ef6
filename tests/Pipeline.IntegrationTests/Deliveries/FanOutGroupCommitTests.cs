using System.Globalization;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.Messages.Sandboxes;
using RabbitMQ.Client;

namespace Pipeline.IntegrationTests.Deliveries;

/// <summary>
/// The fan-out group-committed on real RabbitMQ and PostgreSQL: a burst of messages shares transactions, and a message
/// redelivered (within the burst and after it) adds no second event or delivery.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class FanOutGroupCommitTests(TestServices services)
{
    private const int Events = 120;
    private const string Exchange = "Pipeline.Messages.Sandboxes:SandboxLifecycleEventV1";
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task A_burst_of_messages_shares_transactions_and_each_endpoint_gets_each_event_once_despite_redeliveries()
    {
        var adminKey = DeliveryPipelineTests.NewAdminKey();
        await using var pipeline = await PipelineTopology.StartAsync(services, DeliveryPipelineTests.Topology(adminKey));
        var receivers = new[] { new WebhookReceiver(), new WebhookReceiver(), new WebhookReceiver() };
        try
        {
            var api = new DeliveriesClient(pipeline, adminKey);
            foreach (var receiver in receivers)
            {
                await api.CreateAsync(receiver.Url, ["sandbox.*"]);
            }

            // Every message once, one of them a second time within the burst, published at once.
            var ids = Enumerable.Range(0, Events).Select(_ => Guid.NewGuid()).ToList();
            var factory = new ConnectionFactory { Uri = new Uri(services.RabbitMq, pipeline.Name) };
            await using var connection = await factory.CreateConnectionAsync();
            await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
            foreach (var (id, i) in ids.Append(ids[7]).Select((id, i) => (id, i)))
            {
                await PublishAsync(channel, id, $"sbx-burst-{i}");
            }

            foreach (var receiver in receivers)
            {
                await receiver.WaitForAsync(Events, pipeline.Diagnostics, Deadline);
            }

            // Redelivered after it was fanned out: recognised by the inbox.
            await PublishAsync(channel, ids[42], "sbx-again");
            using var management = new HttpClient { BaseAddress = pipeline.Consumers[ConsumerService.Deliveries].ManagementAddress };
            await Eventually.WaitAsync(async () => Metric(await management.GetStringAsync("metrics"),
                    "pipeline_consumer_messages_total{consumer=\"deliveries.fanout\",outcome=\"duplicate\"}"),
                n => n >= 2, Deadline, "both redeliveries acknowledged as duplicates", pipeline.Diagnostics);

            // Shared transactions: every message was submitted once, in fewer batches than messages.
            var metrics = await management.GetStringAsync("metrics");
            var submitted = Metric(metrics, "pipeline_group_commit_batch_size_sum{name=\"deliveries.fanout\"}");
            var batches = Metric(metrics, "pipeline_group_commit_batch_size_count{name=\"deliveries.fanout\"}");
            Assert.Equal(Events + 2, submitted);
            Assert.InRange(batches, 1, submitted - 1);
            Assert.Equal(0, Metric(metrics, "pipeline_group_commit_split_batches_total{name=\"deliveries.fanout\"}"));

            // One event and one delivery per endpoint for each message, and each endpoint got each event once.
            Assert.Equal(Events, await api.CountAsync("SELECT count(*) FROM webhook_events"));
            Assert.Equal(Events * receivers.Length, await api.CountAsync("SELECT count(*) FROM webhook_deliveries"));
            var expected = ids.Select(id => "evt_" + id.ToString("N")).Order().ToList();
            foreach (var receiver in receivers)
            {
                Assert.Equal(expected, receiver.Received.Select(r => r.Header("webhook-id")).Order().ToList());
            }
        }
        finally
        {
            foreach (var receiver in receivers)
            {
                await receiver.DisposeAsync();
            }
        }
    }

    /// <summary>The value of one series in a Prometheus text scrape; 0 when it is not there yet.</summary>
    private static double Metric(string scrape, string series) =>
        scrape.Split('\n').Where(l => l.StartsWith(series + " ", StringComparison.Ordinal))
            .Select(l => double.Parse(l[(series.Length + 1)..], CultureInfo.InvariantCulture)).FirstOrDefault();

    /// <summary>A MassTransit JSON envelope, as the outbox dispatcher's publish produces it.</summary>
    private static async Task PublishAsync(IChannel channel, Guid messageId, string sandboxId)
    {
        var envelope = new
        {
            messageId,
            messageType = new[] { "urn:message:" + Exchange },
            message = new SandboxLifecycleEventV1
            {
                EventId = Guid.NewGuid().ToString(),
                SandboxId = sandboxId,
                Label = SandboxLabels.Create,
                EventType = "sandbox.lifecycle.created",
                OccurredAt = DateTimeOffset.UtcNow,
                ReceiptId = Guid.NewGuid(),
                SourceFormat = "v2",
            },
            sentTime = DateTime.UtcNow,
            headers = new { },
        };
        var properties = new BasicProperties
        {
            ContentType = "application/vnd.masstransit+json",
            MessageId = messageId.ToString(),
            DeliveryMode = DeliveryModes.Persistent,
        };
        await channel.BasicPublishAsync(Exchange, "", true, properties, JsonSerializer.SerializeToUtf8Bytes(envelope, Json));
    }
}
