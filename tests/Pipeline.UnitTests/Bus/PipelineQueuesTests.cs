using Pipeline.Hosting.Bus;

namespace Pipeline.UnitTests.Bus;

public class PipelineQueuesTests
{
    [Theory]
    [InlineData("00:01:00", "1m")]
    [InlineData("00:05:00", "5m")]
    [InlineData("00:15:00", "15m")]
    [InlineData("01:00:00", "1h")]
    [InlineData("01:30:00", "90m")]
    [InlineData("00:00:02", "2s")]
    [InlineData("00:01:30", "90s")]
    [InlineData("00:00:01.500", "1500ms")]
    public void A_delay_queue_is_named_after_its_delay_in_the_largest_unit_that_divides_it(string delay, string label)
    {
        Assert.Equal(label, PipelineQueues.DelayLabel(TimeSpan.Parse(delay, System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal($"sandboxes-lifecycle_delay_{label}",
            PipelineQueues.DelayQueue("sandboxes-lifecycle", TimeSpan.Parse(delay, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public void An_isolation_queue_shares_its_consumer_queues_dead_letters_and_delay_queues()
    {
        Assert.Equal("rooms-livekit_isolated", PipelineQueues.IsolationQueue("rooms-livekit"));
        Assert.Equal("rooms-livekit_isolated", PipelineQueues.IsolationQueue("rooms-livekit_isolated"));
        Assert.True(PipelineQueues.IsIsolationQueue("rooms-livekit_isolated"));
        Assert.False(PipelineQueues.IsIsolationQueue("rooms-livekit"));
        Assert.Equal("rooms-livekit", PipelineQueues.ConsumerQueueOf("rooms-livekit_isolated"));
        Assert.Equal("rooms-livekit_error", PipelineQueues.ErrorQueue("rooms-livekit_isolated"));
        Assert.Equal("rooms-livekit_delay_1m", PipelineQueues.DelayQueue("rooms-livekit_isolated", TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void The_consumer_queue_dead_letters_to_its_error_queue_past_the_delivery_limit_at_least_once()
    {
        var arguments = PipelineQueues.ConsumerQueueArguments("sandboxes-lifecycle_isolated", 20);

        Assert.Equal("quorum", arguments["x-queue-type"]);
        Assert.Equal(20, arguments["x-delivery-limit"]);
        Assert.Equal("", arguments["x-dead-letter-exchange"]);
        Assert.Equal("sandboxes-lifecycle_error", arguments["x-dead-letter-routing-key"]);
        Assert.Equal("at-least-once", arguments["x-dead-letter-strategy"]);
        Assert.Equal("reject-publish", arguments["x-overflow"]);
    }

    [Fact]
    public void A_delay_queue_expires_messages_after_its_delay_back_into_the_consumer_queue()
    {
        var arguments = PipelineQueues.DelayQueueArguments("sandboxes-lifecycle", TimeSpan.FromMinutes(5));

        Assert.Equal("quorum", arguments["x-queue-type"]);
        Assert.Equal(300_000L, arguments["x-message-ttl"]);
        Assert.Equal("", arguments["x-dead-letter-exchange"]);
        Assert.Equal("sandboxes-lifecycle", arguments["x-dead-letter-routing-key"]);
        Assert.Equal("at-least-once", arguments["x-dead-letter-strategy"]);
    }

    [Fact]
    public void No_argument_of_the_consumer_queue_but_its_type_reaches_the_error_queue()
    {
        var copied = PipelineQueues.ConsumerQueueArguments("q", 20).Keys.Except(PipelineQueues.ArgumentsErrorQueuesMustNotCopy);

        Assert.Equal(["x-queue-type"], copied);
        Assert.Equal(new Dictionary<string, object> { ["x-queue-type"] = "quorum" }, PipelineQueues.ErrorQueueArguments());
    }
}
