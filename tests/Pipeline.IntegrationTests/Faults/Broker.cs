using System.Net.Http.Json;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;
using RabbitMQ.Client;

namespace Pipeline.IntegrationTests.Faults;

/// <summary>Exact queue facts straight from the broker (the management API's counts lag by up to five seconds).</summary>
internal static class Broker
{
    /// <summary>Messages ready in a queue now (a passive declare; not counting those a consumer holds).</summary>
    public static async Task<uint> ReadyAsync(TestServices services, PipelineTopology pipeline, string queue)
    {
        var factory = new ConnectionFactory { Uri = new Uri(services.RabbitMq, pipeline.Name) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    /// <summary>
    /// Publishes (with a confirm) a copy of the message at the head of a queue to the same queue, as a crash between a
    /// move's publish and its acknowledgement leaves one, and gives the original back.
    /// </summary>
    public static async Task CopyHeadAsync(TestServices services, PipelineTopology pipeline, string queue)
    {
        var factory = new ConnectionFactory { Uri = new Uri(services.RabbitMq, pipeline.Name) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var head = await channel.BasicGetAsync(queue, autoAck: false) ?? throw new InvalidOperationException($"{queue} is empty");
        await channel.BasicPublishAsync("", queue, true, new BasicProperties(head.BasicProperties), head.Body);
        await channel.BasicNackAsync(head.DeliveryTag, multiple: false, requeue: true);
    }

    /// <summary>
    /// The redelivered flag of up to <paramref name="count"/> messages at the head of a queue, read through the
    /// management API, which puts them back (and so marks them redelivered from then on).
    /// </summary>
    public static async Task<List<bool>> PeekRedeliveredAsync(TestServices services, PipelineTopology pipeline, string queue, int count)
    {
        using var http = services.ManagementClient();
        var response = await http.PostAsync($"api/queues/{Uri.EscapeDataString(pipeline.Name)}/{Uri.EscapeDataString(queue)}/get",
            JsonContent.Create(new { count, ackmode = "ack_requeue_true", encoding = "auto", truncate = 1000 }));
        response.EnsureSuccessStatusCode();
        var messages = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return [.. messages.EnumerateArray().Select(m => m.GetProperty("redelivered").GetBoolean())];
    }

    /// <summary>The arguments a queue was declared with.</summary>
    public static async Task<JsonElement> QueueArgumentsAsync(TestServices services, PipelineTopology pipeline, string queue)
    {
        using var http = services.ManagementClient();
        var json = await http.GetFromJsonAsync<JsonElement>($"api/queues/{Uri.EscapeDataString(pipeline.Name)}/{Uri.EscapeDataString(queue)}");
        return json.GetProperty("arguments");
    }
}
