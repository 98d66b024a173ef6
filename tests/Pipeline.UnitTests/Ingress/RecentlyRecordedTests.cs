using Pipeline.Ingress.Webhooks;

namespace Pipeline.UnitTests.Ingress;

/// <summary>The keys Ingress remembers as recorded, so that a repeat is answered without a commit or the provider's rate.</summary>
public sealed class RecentlyRecordedTests
{
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    [Fact]
    public void A_recorded_key_is_a_repeat_for_its_own_provider_only()
    {
        var recent = new RecentlyRecorded(new ManualClock());
        Assert.False(recent.Contains("e2b", "evt-1"));

        recent.Add("e2b", "evt-1");

        Assert.True(recent.Contains("e2b", "evt-1"));
        Assert.False(recent.Contains("new-api", "evt-1"));
        Assert.False(recent.Contains("e2b", "evt-2"));
    }

    [Fact]
    public void At_most_two_generations_of_keys_are_kept_however_many_arrive()
    {
        var recent = new RecentlyRecorded(new ManualClock());
        recent.Add("e2b", "first");
        for (var i = 0; i < 2 * RecentlyRecorded.Capacity; i++)
        {
            recent.Add("e2b", $"evt-{i}");
        }

        Assert.False(recent.Contains("e2b", "first"));
        Assert.True(recent.Contains("e2b", $"evt-{2 * RecentlyRecorded.Capacity - 1}"));
        Assert.True(recent.Contains("e2b", $"evt-{RecentlyRecorded.Capacity}"));
    }

    [Fact]
    public void A_key_is_forgotten_within_twice_the_age_limit_even_without_traffic()
    {
        var clock = new ManualClock();
        var recent = new RecentlyRecorded(clock);
        recent.Add("e2b", "evt-1");

        clock.Advance(RecentlyRecorded.MaxAge);
        Assert.True(recent.Contains("e2b", "evt-1"));
        clock.Advance(RecentlyRecorded.MaxAge);
        Assert.False(recent.Contains("e2b", "evt-1"));
    }

    [Fact]
    public void A_key_repeated_without_pause_stays_a_repeat_across_rotations()
    {
        var clock = new ManualClock();
        var recent = new RecentlyRecorded(clock);
        recent.Add("e2b", "replayed");
        for (var round = 0; round < 10; round++)
        {
            clock.Advance(RecentlyRecorded.MaxAge);
            recent.Add("e2b", $"new-{round}"); // traffic rotates the generations
            Assert.True(recent.Contains("e2b", "replayed"), $"round {round}");
        }
    }
}
