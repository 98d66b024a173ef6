using Microsoft.Extensions.Options;
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

    private static readonly TimeSpan Window = new RateLimitOptions().RepeatWindow;

    private static RecentlyRecorded Create(TimeProvider clock, TimeSpan? window = null) =>
        new(clock, Options.Create(new RateLimitOptions { RepeatWindow = window ?? Window }));

    [Fact]
    public void The_window_is_thirty_seconds_by_default_and_zero_turns_it_off()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), Window);
        var off = Create(new ManualClock(), TimeSpan.Zero);
        off.Add("e2b", "evt-1");
        Assert.False(off.Contains("e2b", "evt-1"));
    }

    [Fact]
    public void A_recorded_key_is_a_repeat_for_its_own_provider_only()
    {
        var recent = Create(new ManualClock());
        Assert.False(recent.Contains("e2b", "evt-1"));

        recent.Add("e2b", "evt-1");

        Assert.True(recent.Contains("e2b", "evt-1"));
        Assert.False(recent.Contains("new-api", "evt-1"));
        Assert.False(recent.Contains("e2b", "evt-2"));
    }

    [Fact]
    public void At_most_two_generations_of_keys_are_kept_however_many_arrive()
    {
        var recent = Create(new ManualClock());
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
        var recent = Create(clock);
        recent.Add("e2b", "evt-1");

        clock.Advance(Window);
        Assert.True(recent.Contains("e2b", "evt-1"));
        clock.Advance(Window);
        Assert.False(recent.Contains("e2b", "evt-1"));
    }

    [Fact]
    public void A_key_repeated_without_pause_stays_a_repeat_across_rotations()
    {
        var clock = new ManualClock();
        var recent = Create(clock);
        recent.Add("e2b", "replayed");
        for (var round = 0; round < 10; round++)
        {
            clock.Advance(Window);
            recent.Add("e2b", $"new-{round}"); // traffic rotates the generations
            Assert.True(recent.Contains("e2b", "replayed"), $"round {round}");
        }
    }
}
