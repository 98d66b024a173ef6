using System.Net;
using System.Net.Http.Headers;
using Pipeline.Consumers.Deliveries;
using Pipeline.Consumers.Deliveries.Sending;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.UnitTests.Deliveries;

public class RetryPolicyTests
{
    private static readonly IReadOnlyList<TimeSpan> Svix = DeliveriesOptions.DefaultRetrySchedule;

    [Theory]
    [InlineData(200, AttemptVerdict.Delivered)]
    [InlineData(204, AttemptVerdict.Delivered)]
    [InlineData(299, AttemptVerdict.Delivered)]
    [InlineData(301, AttemptVerdict.Retry)]
    [InlineData(302, AttemptVerdict.Retry)]
    [InlineData(400, AttemptVerdict.Retry)]
    [InlineData(410, AttemptVerdict.Gone)]
    [InlineData(429, AttemptVerdict.Retry)]
    [InlineData(500, AttemptVerdict.Retry)]
    [InlineData(null, AttemptVerdict.Retry)]
    public void Only_2xx_is_success_and_410_means_gone(int? status, AttemptVerdict verdict) =>
        Assert.Equal(verdict, RetryPolicy.Classify(status));

    [Fact]
    public void The_default_schedule_is_svixs_eight_attempts()
    {
        Assert.Equal(
            [TimeSpan.Zero, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30), TimeSpan.FromHours(2),
             TimeSpan.FromHours(5), TimeSpan.FromHours(10), TimeSpan.FromHours(10)], Svix);
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 300)]
    [InlineData(3, 1800)]
    [InlineData(7, 36000)]
    public void Each_wait_is_the_schedules_entry_within_twenty_percent(int attemptsMade, double seconds)
    {
        var low = RetryPolicy.NextDelay(Svix, attemptsMade, null, TimeSpan.FromDays(1), 0.0)!.Value;
        var middle = RetryPolicy.NextDelay(Svix, attemptsMade, null, TimeSpan.FromDays(1), 0.5)!.Value;
        var high = RetryPolicy.NextDelay(Svix, attemptsMade, null, TimeSpan.FromDays(1), 0.999999)!.Value;

        Assert.Equal(seconds * 0.8, low.TotalSeconds, 3);
        Assert.Equal(seconds, middle.TotalSeconds, 3);
        Assert.InRange(high.TotalSeconds, seconds * 1.2 - 0.1, seconds * 1.2);
    }

    [Fact]
    public void After_the_last_attempt_there_is_no_next_one()
    {
        Assert.NotNull(RetryPolicy.NextDelay(Svix, 7, null, TimeSpan.FromDays(1), 0.5));
        Assert.Null(RetryPolicy.NextDelay(Svix, 8, null, TimeSpan.FromDays(1), 0.5));
        Assert.Null(RetryPolicy.NextDelay(Svix, 8, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), 0.5));
    }

    [Fact]
    public void Retry_after_is_a_floor_capped_by_the_setting()
    {
        Assert.Equal(TimeSpan.FromMinutes(2), RetryPolicy.NextDelay(Svix, 1, TimeSpan.FromMinutes(2), TimeSpan.FromDays(1), 0.5));
        Assert.Equal(TimeSpan.FromMinutes(5), RetryPolicy.NextDelay(Svix, 2, TimeSpan.FromSeconds(30), TimeSpan.FromDays(1), 0.5));
        Assert.Equal(TimeSpan.FromHours(1), RetryPolicy.NextDelay(Svix, 1, TimeSpan.FromHours(30), TimeSpan.FromHours(1), 0.5));
    }

    [Fact]
    public void Retry_after_counts_on_429_and_503_as_seconds_or_a_date()
    {
        var now = new DateTimeOffset(2026, 12, 1, 10, 0, 0, TimeSpan.Zero);

        Assert.Equal(TimeSpan.FromSeconds(120), RetryPolicy.RetryAfter(HttpStatusCode.TooManyRequests, new RetryConditionHeaderValue(TimeSpan.FromSeconds(120)), now));
        Assert.Equal(TimeSpan.FromMinutes(3), RetryPolicy.RetryAfter(HttpStatusCode.ServiceUnavailable, new RetryConditionHeaderValue(now.AddMinutes(3)), now));
        Assert.Null(RetryPolicy.RetryAfter(HttpStatusCode.InternalServerError, new RetryConditionHeaderValue(TimeSpan.FromSeconds(120)), now));
        Assert.Null(RetryPolicy.RetryAfter(HttpStatusCode.TooManyRequests, new RetryConditionHeaderValue(now.AddMinutes(-1)), now));
        Assert.Null(RetryPolicy.RetryAfter(HttpStatusCode.TooManyRequests, null, now));
    }

    [Fact]
    public void An_attempt_is_recorded_with_the_deliverys_next_state()
    {
        var settings = new DeliveriesOptions { RetrySchedule = [TimeSpan.Zero, TimeSpan.FromSeconds(10)] };
        var delivery = new ClaimedDelivery(Guid.NewGuid(), Guid.NewGuid(), "evt_1", "sandbox.created", 0, 0, "{}", "token", DateTime.UtcNow.AddMinutes(2));
        var now = DateTime.UtcNow;
        SendResult Result(int? status, string? error = null) => new(now, TimeSpan.FromMilliseconds(12), status, "ok", error, null, SendOutcomes.Success);

        var ok = DeliveryWorker.Decide(delivery, Result(200), settings);
        var retry = DeliveryWorker.Decide(delivery, Result(500, "HTTP 500"), settings);
        var last = DeliveryWorker.Decide(delivery with { Attempts = 1 }, Result(null, "Timed out"), settings);
        var gone = DeliveryWorker.Decide(delivery, Result(410, "HTTP 410"), settings);

        Assert.Equal((DeliveryStatuses.Delivered, (DateTime?)null, 1, true), (ok.Status, ok.NextAttemptAt, ok.Attempt.Number, ok.Attempt.Succeeded));
        Assert.Equal(DeliveryStatuses.Pending, retry.Status);
        Assert.InRange(retry.NextAttemptAt!.Value, now.AddSeconds(7.9), DateTime.UtcNow.AddSeconds(12.1));
        Assert.False(retry.Attempt.Succeeded);
        Assert.Equal((DeliveryStatuses.Failed, 2, "Timed out"), (last.Status, last.Attempt.Number, last.Attempt.Error));
        Assert.Null(last.DisableEndpoint);
        Assert.Equal(DeliveryStatuses.Failed, gone.Status);
        Assert.NotNull(gone.DisableEndpoint);

        // Resent after two failed attempts: the schedule starts again, attempts go on being numbered.
        var resent = DeliveryWorker.Decide(delivery with { Attempts = 2, ScheduleStart = 2 }, Result(500, "HTTP 500"), settings);
        Assert.Equal((DeliveryStatuses.Pending, 3), (resent.Status, resent.Attempt.Number));
        var resentLast = DeliveryWorker.Decide(delivery with { Attempts = 3, ScheduleStart = 2 }, Result(500, "HTTP 500"), settings);
        Assert.Equal((DeliveryStatuses.Failed, 4), (resentLast.Status, resentLast.Attempt.Number));
    }
}
