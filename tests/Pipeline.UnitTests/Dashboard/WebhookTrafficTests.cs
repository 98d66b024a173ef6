using Pipeline.Ingress.Dashboard;

namespace Pipeline.UnitTests.Dashboard;

public class WebhookTrafficTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 22, 12, 0, 30, TimeSpan.Zero);

    [Fact]
    public void Counts_accepted_and_refused_answers_by_provider_and_status()
    {
        var clock = new MovableClock(Start);
        var traffic = new WebhookTraffic(clock);
        traffic.Record("e2b", 200, TimeSpan.FromMilliseconds(3));
        traffic.Record("e2b", 200, TimeSpan.FromMilliseconds(4));
        traffic.Record("e2b", 401, TimeSpan.FromMilliseconds(1));
        traffic.Record("e2b", 401, TimeSpan.FromMilliseconds(1));
        traffic.Record("e2b", 413, TimeSpan.FromMilliseconds(1));
        traffic.Record("livekit", 500, TimeSpan.FromMilliseconds(9));

        var snapshot = traffic.Snapshot(60);

        Assert.Equal(["e2b", "livekit"], snapshot.Select(t => t.Provider));
        var e2b = snapshot[0];
        Assert.Equal(2, e2b.Accepted);
        Assert.Equal(3, e2b.Rejected);
        Assert.Equal(new Dictionary<int, long> { [401] = 2, [413] = 1 }, e2b.RejectedByStatus);
        Assert.Equal(2, e2b.Latency!.Count);
        Assert.Equal(4, e2b.Latency.Max);
        var livekit = snapshot[1];
        Assert.Equal(0, livekit.Accepted);
        Assert.Null(livekit.Latency);
    }

    [Fact]
    public void Percentiles_are_bucket_bounds_capped_at_the_slowest_answer()
    {
        var traffic = new WebhookTraffic(new MovableClock(Start));
        for (var i = 0; i < 90; i++)
        {
            traffic.Record("e2b", 200, TimeSpan.FromMilliseconds(4)); // bucket ≤ 5 ms
        }

        for (var i = 0; i < 10; i++)
        {
            traffic.Record("e2b", 200, TimeSpan.FromMilliseconds(70)); // bucket ≤ 100 ms
        }

        var latency = traffic.Snapshot(60).Single().Latency!;
        Assert.Equal(100, latency.Count);
        Assert.Equal(5, latency.P50);
        Assert.Equal(70, latency.P95); // the ≤ 100 ms bucket, but nothing was slower than 70 ms
        Assert.Equal(70, latency.Max);

        traffic.Record("e2b", 200, TimeSpan.FromSeconds(30)); // beyond the last bound
        Assert.Equal(30_000, traffic.Snapshot(60).Single().Latency!.Max);
    }

    [Fact]
    public void Only_the_requested_minutes_count_and_an_hour_old_answer_is_forgotten()
    {
        var clock = new MovableClock(Start);
        var traffic = new WebhookTraffic(clock);
        traffic.Record("e2b", 401, TimeSpan.Zero);
        clock.Advance(TimeSpan.FromMinutes(10));
        traffic.Record("e2b", 401, TimeSpan.Zero);
        traffic.Record("e2b", 200, TimeSpan.FromMilliseconds(2));

        Assert.Equal(1, traffic.Snapshot(5).Single().Rejected);
        Assert.Equal(2, traffic.Snapshot(60).Single().Rejected);
        Assert.Equal(2, traffic.Snapshot(1000).Single().Rejected); // clamped to the hour kept

        // 60 minutes after the first answer its slot is reused; the later ones stay until their own hour is over.
        clock.Advance(TimeSpan.FromMinutes(50));
        traffic.Record("e2b", 200, TimeSpan.FromMilliseconds(2));
        var hour = traffic.Snapshot(60).Single();
        Assert.Equal(1, hour.Rejected);
        Assert.Equal(2, hour.Accepted);

        clock.Advance(TimeSpan.FromMinutes(61));
        Assert.Empty(traffic.Snapshot(60));
    }

    private sealed class MovableClock(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;

        public void Advance(TimeSpan by) => _now += by;

        public override DateTimeOffset GetUtcNow() => _now;
    }
}
