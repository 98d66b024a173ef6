using System.Text;
using Microsoft.Extensions.Configuration;
using Pipeline.Hosting.Bus;

namespace Pipeline.UnitTests.Bus;

public class RedeliveryScheduleTests
{
    private static readonly RedeliverySchedule Schedule =
        new([TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15)]);

    [Fact]
    public void Each_delayed_retry_waits_for_the_next_delay_until_none_is_left()
    {
        Assert.Equal(TimeSpan.FromMinutes(1), Schedule.NextDelay(0));
        Assert.Equal(TimeSpan.FromMinutes(5), Schedule.NextDelay(1));
        Assert.Equal(TimeSpan.FromMinutes(15), Schedule.NextDelay(2));
        Assert.Null(Schedule.NextDelay(3));
        Assert.Null(Schedule.NextDelay(-1));
        Assert.Null(RedeliverySchedule.None.NextDelay(0));
    }

    [Fact]
    public void A_permanent_fault_gets_no_delayed_retry_a_passing_one_does()
    {
        Assert.Null(Schedule.NextDelay(new PermanentMessageException("no id"), 0));
        Assert.Null(Schedule.NextDelay(new InvalidOperationException("wrapped", new PermanentMessageException("no id")), 0));
        Assert.Equal(TimeSpan.FromMinutes(1), Schedule.NextDelay(new TimeoutException("database"), 0));
        Assert.Null(Schedule.NextDelay(new TimeoutException("database"), 3));
    }

    [Fact]
    public void Permanent_faults_are_the_marked_ones_and_undeserializable_bodies()
    {
        Assert.True(ConsumerPolicies.IsPermanent(new PermanentMessageException("broken invariant")));
        Assert.True(ConsumerPolicies.IsPermanent(new System.Runtime.Serialization.SerializationException("bad envelope")));
        Assert.True(ConsumerPolicies.IsPermanent(new System.Text.Json.JsonException("not JSON")));
        Assert.True(ConsumerPolicies.IsPermanent(new AggregateException(new PermanentMessageException("a"), new PermanentMessageException("b"))));
        Assert.False(ConsumerPolicies.IsPermanent(new AggregateException(new PermanentMessageException("a"), new TimeoutException())));
        Assert.False(ConsumerPolicies.IsPermanent(new TimeoutException()));
        Assert.False(ConsumerPolicies.IsPermanent(new InvalidOperationException("deadlock")));
    }

    [Fact]
    public void The_redelivery_count_is_read_whatever_type_the_header_arrived_as()
    {
        Assert.Equal(0, RedeliverySchedule.CountOf(null));
        Assert.Equal(0, RedeliverySchedule.CountOf(new Dictionary<string, object?>()));
        Assert.Equal(2, RedeliverySchedule.CountOf(new Dictionary<string, object?> { [PipelineQueues.RedeliveryCountHeader] = 2 }));
        Assert.Equal(3, RedeliverySchedule.CountOf(new Dictionary<string, object?> { [PipelineQueues.RedeliveryCountHeader] = 3L }));
        Assert.Equal(1, RedeliverySchedule.CountOf(new Dictionary<string, object?> { [PipelineQueues.RedeliveryCountHeader] = Encoding.UTF8.GetBytes("1") }));
        Assert.Equal(0, RedeliverySchedule.CountOf(new Dictionary<string, object?> { [PipelineQueues.RedeliveryCountHeader] = "x" }));
        Assert.Equal(0, RedeliverySchedule.CountOf(new Dictionary<string, object?> { [PipelineQueues.RedeliveryCountHeader] = -4 }));
    }

    [Fact]
    public void The_schedule_defaults_to_1_5_and_15_minutes_and_is_read_from_Bus_Redelivery()
    {
        Assert.Equal([TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15)], new BusOptions().RedeliverySchedule());

        var options = Bind(new() { ["Bus:Redelivery:0"] = "00:00:02", ["Bus:Redelivery:1"] = "00:00:30" });

        Assert.Equal([TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30)], options.RedeliverySchedule());
        Assert.Empty(Problems(options));
    }

    [Fact]
    public void A_delay_outside_a_millisecond_to_a_day_stops_start_up_naming_the_setting()
    {
        var options = Bind(new() { ["Bus:Redelivery:0"] = "00:01:00", ["Bus:Redelivery:1"] = "2.00:00:00" });

        var problem = Assert.Single(Problems(options));
        Assert.Contains("Bus:Redelivery:1", problem);
    }

    private static BusOptions Bind(Dictionary<string, string?> settings)
    {
        settings["Bus:RabbitMq"] = "amqp://guest:guest@127.0.0.1:5672/";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return configuration.GetSection(BusOptions.Section).Get<BusOptions>()!;
    }

    [Fact]
    public void A_message_back_from_a_delay_queue_counts_as_failed_before_and_is_written_alone()
    {
        Assert.False(ConsumerPolicies.FailedBefore(0, 0, null));
        Assert.False(ConsumerPolicies.FailedBefore(0, 0, new Dictionary<string, object?> { ["x-delivery-count"] = 1L }));
        Assert.True(ConsumerPolicies.FailedBefore(1, 0, null));
        Assert.True(ConsumerPolicies.FailedBefore(0, 1, null));
        Assert.True(ConsumerPolicies.FailedBefore(0, 0, new Dictionary<string, object?> { [PipelineQueues.RedeliveryCountHeader] = 1 }));
    }

    private static List<string> Problems(BusOptions options) =>
        options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).Select(r => r.ErrorMessage!).ToList();
}
