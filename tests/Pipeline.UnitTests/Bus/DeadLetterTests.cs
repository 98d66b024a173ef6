using System.Text;
using Pipeline.Hosting.DeadLetters;
using RabbitMQ.Client;

namespace Pipeline.UnitTests.Bus;

public class DeadLetterTests
{
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"messageType":["urn:message:Pipeline.Messages.Sandboxes:SandboxLifecycleEventV1"]}""");

    [Fact]
    public void A_message_RabbitMQ_dead_lettered_at_the_delivery_limit_says_so_from_its_x_death_record()
    {
        var properties = new BasicProperties
        {
            MessageId = "m-1",
            Headers = new Dictionary<string, object?>
            {
                ["x-death"] = new List<object>
                {
                    new Dictionary<string, object?>
                    {
                        ["count"] = 1L,
                        ["reason"] = "delivery_limit"u8.ToArray(),
                        ["queue"] = "sandboxes-lifecycle_isolated"u8.ToArray(),
                        ["time"] = new AmqpTimestamp(1_790_000_000),
                        ["exchange"] = Array.Empty<byte>(),
                    },
                    new Dictionary<string, object?> { ["reason"] = "expired"u8.ToArray(), ["queue"] = "sandboxes-lifecycle_delay_1m"u8.ToArray() },
                },
            },
        };

        var letter = DeadLetter.From("sandboxes-lifecycle_error", properties, Body);

        Assert.Equal("dead-lettered by RabbitMQ: delivery_limit", letter.ExceptionType);
        Assert.Contains("delivery limit of sandboxes-lifecycle_isolated", letter.ExceptionMessage);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_790_000_000), letter.FaultedAt);
        Assert.Equal("Pipeline.Messages.Sandboxes:SandboxLifecycleEventV1", letter.MessageType);
        Assert.Equal("sandboxes-lifecycle", letter.SourceQueue);
        Assert.StartsWith("{count=1, reason=delivery_limit, queue=sandboxes-lifecycle_isolated", letter.Headers["x-death"]);
        Assert.True(new DeadLetterFilter(ExceptionType: "delivery_limit").Matches(letter));
    }

    [Fact]
    public void MassTransits_fault_headers_win_over_an_x_death_record()
    {
        var properties = new BasicProperties
        {
            Headers = new Dictionary<string, object?>
            {
                ["MT-Fault-ExceptionType"] = "Npgsql.PostgresException"u8.ToArray(),
                ["MT-Fault-Message"] = "database is not accepting connections"u8.ToArray(),
                ["x-death"] = new List<object> { new Dictionary<string, object?> { ["reason"] = "expired"u8.ToArray() } },
            },
        };

        var letter = DeadLetter.From("sandboxes-lifecycle_error", properties, Body);

        Assert.Equal("Npgsql.PostgresException", letter.ExceptionType);
        Assert.Equal("database is not accepting connections", letter.ExceptionMessage);
    }

    [Theory]
    [InlineData("credits-usage")]
    [InlineData("credits-usage_isolated")]
    [InlineData("credits-usage_error")]
    public void A_queue_named_for_dead_letter_operations_always_means_its_error_queue(string named)
    {
        Assert.Equal("credits-usage_error", DeadLetterClient.DeadLetterQueueOf(named));
    }
}
