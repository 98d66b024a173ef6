using Pipeline.Consumers.Sandboxes;
using Pipeline.Messages.Sandboxes;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.UnitTests.Sandboxes;

public class SandboxEventFoldTests
{
    private const string SandboxId = "iabc123def456ghi789jk";
    private const string TemplateId = "tmpl-base";
    private const string TeamId = "460355b3-4f64-48f9-9a16-4442817f79f5";

    private static readonly DateTimeOffset T0 = new(2026, 1, 29, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTime Now = new(2026, 2, 1, 12, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Later = Now.AddMinutes(5);

    private static DateTimeOffset At(int seconds) => T0.AddSeconds(seconds);

    private static DateTime Utc(int seconds) => At(seconds).UtcDateTime;

    private static SandboxLifecycleEventV1 Event(
        string label,
        DateTimeOffset occurredAt,
        long? executionMs = null,
        DateTimeOffset? executionStartedAt = null,
        string? templateId = TemplateId,
        string? teamId = TeamId) => new()
        {
            EventId = $"{label}-{occurredAt.ToUnixTimeMilliseconds()}",
            SandboxId = SandboxId,
            Label = label,
            EventType = "sandbox.lifecycle." + label switch
            {
                SandboxLabels.Create => "created",
                SandboxLabels.Kill => "killed",
                SandboxLabels.Pause => "paused",
                SandboxLabels.Resume => "resumed",
                SandboxLabels.Update => "updated",
                _ => label,
            },
            OccurredAt = occurredAt,
            TemplateId = templateId,
            TeamId = teamId,
            Execution = executionMs is null && executionStartedAt is null
                ? null
                : new SandboxExecutionV1 { ExecutionTimeMs = executionMs, StartedAt = executionStartedAt, VcpuCount = 2, MemoryMb = 512 },
            ReceiptId = Guid.Parse("6a1f1f5e-0000-4000-8000-0000000000aa"),
            SourceFormat = "v2",
        };

    /// <summary>Applies the events in arrival order, starting from no row.</summary>
    private static Sandbox Run(params SandboxLifecycleEventV1[] events)
    {
        Sandbox? sandbox = null;
        foreach (var e in events)
        {
            sandbox = SandboxEventFold.Apply(sandbox, e, Now);
        }

        return sandbox!;
    }

    /// <summary>Every persisted field, so two rows can be compared as a whole.</summary>
    private sealed record Snapshot(
        string SandboxId, string State, string? TemplateId, string? TeamId, string? BuildId, string? ExecutionId,
        string? Metadata, DateTime? CreatedAt, DateTime StateChangedAt, DateTime LastEventAt, DateTime? RunningSince,
        DateTime? PausedAt, DateTime? KilledAt, double BilledRunningSeconds, int EventCount, DateTime UpdatedAt, int Version);

    private static Snapshot Snap(Sandbox s) => new(
        s.SandboxId, s.State, s.TemplateId, s.TeamId, s.BuildId, s.ExecutionId, s.Metadata, s.CreatedAt,
        s.StateChangedAt, s.LastEventAt, s.RunningSince, s.PausedAt, s.KilledAt, s.BilledRunningSeconds,
        s.EventCount, s.UpdatedAt, s.Version);

    [Fact]
    public void Create_on_an_unknown_sandbox_makes_a_running_row()
    {
        var s = SandboxEventFold.Apply(null, Event(SandboxLabels.Create, T0), Now);

        Assert.Equal(SandboxId, s.SandboxId);
        Assert.Equal(SandboxStates.Running, s.State);
        Assert.Equal(T0.UtcDateTime, s.CreatedAt);
        Assert.Equal(T0.UtcDateTime, s.RunningSince);
        Assert.Equal(T0.UtcDateTime, s.StateChangedAt);
        Assert.Equal(T0.UtcDateTime, s.LastEventAt);
        Assert.Equal(TemplateId, s.TemplateId);
        Assert.Equal(TeamId, s.TeamId);
        Assert.Null(s.PausedAt);
        Assert.Null(s.KilledAt);
        Assert.Equal(0, s.BilledRunningSeconds);
        Assert.Equal(1, s.EventCount);
        Assert.Equal(Now, s.UpdatedAt);
    }

    [Fact]
    public void Timestamps_with_an_offset_are_stored_as_utc()
    {
        var local = new DateTimeOffset(2026, 1, 29, 12, 0, 0, TimeSpan.FromHours(2));

        var s = Run(Event(SandboxLabels.Create, local));

        Assert.Equal(new DateTime(2026, 1, 29, 10, 0, 0, DateTimeKind.Utc), s.CreatedAt);
        Assert.Equal(DateTimeKind.Utc, s.CreatedAt!.Value.Kind);
        Assert.Equal(new DateTime(2026, 1, 29, 10, 0, 0, DateTimeKind.Utc), s.RunningSince);
    }

    [Fact]
    public void Create_pause_resume_kill_bills_both_running_periods_from_timestamps()
    {
        var s = Run(Event(SandboxLabels.Create, At(0)));

        s = SandboxEventFold.Apply(s, Event(SandboxLabels.Pause, At(60)), Now);
        Assert.Equal(SandboxStates.Paused, s.State);
        Assert.Equal(Utc(60), s.PausedAt);
        Assert.Null(s.RunningSince);
        Assert.Equal(60, s.BilledRunningSeconds, 6);

        s = SandboxEventFold.Apply(s, Event(SandboxLabels.Resume, At(300)), Now);
        Assert.Equal(SandboxStates.Running, s.State);
        Assert.Equal(Utc(300), s.RunningSince);
        Assert.Null(s.PausedAt);
        Assert.Equal(60, s.BilledRunningSeconds, 6); // a resume ends no running period

        s = SandboxEventFold.Apply(s, Event(SandboxLabels.Kill, At(330)), Now);
        Assert.Equal(SandboxStates.Killed, s.State);
        Assert.Equal(Utc(330), s.KilledAt);
        Assert.Null(s.RunningSince);
        Assert.Equal(60 + 30, s.BilledRunningSeconds, 6);
        Assert.Equal(Utc(0), s.CreatedAt);
        Assert.Equal(Utc(330), s.StateChangedAt);
        Assert.Equal(Utc(330), s.LastEventAt);
        Assert.Equal(4, s.EventCount);
    }

    [Fact]
    public void Execution_time_is_billed_instead_of_the_timestamps_when_present()
    {
        // 500 s between create and kill by the timestamps, but E2B says 100000 ms ran.
        var s = Run(
            Event(SandboxLabels.Create, At(0)),
            Event(SandboxLabels.Kill, At(500), executionMs: 100_000));

        Assert.Equal(SandboxStates.Killed, s.State);
        Assert.Equal(100, s.BilledRunningSeconds, 6);
    }

    [Fact]
    public void Execution_time_of_each_running_period_is_summed()
    {
        var s = Run(
            Event(SandboxLabels.Create, At(0)),
            Event(SandboxLabels.Pause, At(1000), executionMs: 60_500),
            Event(SandboxLabels.Resume, At(2000)),
            Event(SandboxLabels.Kill, At(3000), executionMs: 30_000));

        Assert.Equal(90.5, s.BilledRunningSeconds, 6);
    }

    [Fact]
    public void Execution_time_of_zero_is_billed_as_zero_not_replaced_by_the_timestamps()
    {
        var s = Run(
            Event(SandboxLabels.Create, At(0)),
            Event(SandboxLabels.Kill, At(500), executionMs: 0));

        Assert.Equal(0, s.BilledRunningSeconds);
    }

    [Fact]
    public void Execution_start_is_used_when_the_create_was_never_seen()
    {
        var s = Run(Event(SandboxLabels.Kill, At(500), executionStartedAt: At(200)));

        Assert.Equal(SandboxStates.Killed, s.State);
        Assert.Equal(300, s.BilledRunningSeconds, 6);
    }

    [Fact]
    public void Kill_before_create_ends_killed_and_the_late_create_only_fills_in_CreatedAt()
    {
        var s = Run(Event(SandboxLabels.Kill, At(100), templateId: null));
        Assert.Equal(SandboxStates.Killed, s.State);
        Assert.Equal(Utc(100), s.KilledAt);
        Assert.Null(s.CreatedAt);
        Assert.Null(s.TemplateId);
        var billedAfterKill = s.BilledRunningSeconds;

        s = SandboxEventFold.Apply(s, Event(SandboxLabels.Create, At(0)), Later);

        Assert.Equal(SandboxStates.Killed, s.State);
        Assert.Equal(Utc(0), s.CreatedAt);
        Assert.Equal(TemplateId, s.TemplateId); // details still filled in from the older event
        Assert.Equal(Utc(100), s.KilledAt);
        Assert.Equal(Utc(100), s.StateChangedAt);
        Assert.Equal(Utc(100), s.LastEventAt);
        Assert.Null(s.RunningSince);
        Assert.Equal(0, billedAfterKill); // nothing said how long it ran...
        Assert.Equal(100, s.BilledRunningSeconds, 6); // ...until the late create did
        Assert.Equal(2, s.EventCount);
        Assert.Equal(Later, s.UpdatedAt);
    }

    [Fact]
    public void A_stale_pause_does_not_change_the_state()
    {
        var s = Run(Event(SandboxLabels.Create, At(100)));

        s = SandboxEventFold.Apply(s, Event(SandboxLabels.Pause, At(50)), Now);

        Assert.Equal(SandboxStates.Running, s.State);
        Assert.Equal(Utc(100), s.RunningSince);
        Assert.Equal(Utc(100), s.StateChangedAt);
        Assert.Null(s.PausedAt);
        Assert.Equal(0, s.BilledRunningSeconds);
        Assert.Equal(Utc(100), s.LastEventAt);
        Assert.Equal(2, s.EventCount);
    }

    [Fact]
    public void A_pause_older_than_the_resume_that_set_the_state_is_ignored()
    {
        var s = Run(
            Event(SandboxLabels.Create, At(0)),
            Event(SandboxLabels.Pause, At(10)),
            Event(SandboxLabels.Resume, At(30)));
        var billed = s.BilledRunningSeconds;

        s = SandboxEventFold.Apply(s, Event(SandboxLabels.Pause, At(20)), Now);

        Assert.Equal(SandboxStates.Running, s.State);
        Assert.Equal(Utc(30), s.RunningSince);
        Assert.Equal(Utc(30), s.StateChangedAt);
        Assert.Null(s.PausedAt);
        Assert.Equal(billed, s.BilledRunningSeconds);
        Assert.Equal(10, s.BilledRunningSeconds, 6);
    }

    [Theory]
    [InlineData(SandboxLabels.Resume)]
    [InlineData(SandboxLabels.Pause)]
    [InlineData(SandboxLabels.Create)]
    [InlineData(SandboxLabels.Kill)]
    [InlineData(SandboxLabels.Update)]
    public void Nothing_after_a_kill_moves_the_state_even_with_a_later_timestamp(string label)
    {
        var killed = Run(
            Event(SandboxLabels.Create, At(0)),
            Event(SandboxLabels.Kill, At(100)));
        Assert.Equal(100, killed.BilledRunningSeconds, 6);

        var s = SandboxEventFold.Apply(killed, Event(label, At(500), executionMs: 900_000), Now);

        Assert.Equal(SandboxStates.Killed, s.State);
        Assert.Equal(Utc(100), s.KilledAt);
        Assert.Equal(Utc(100), s.StateChangedAt);
        Assert.Null(s.RunningSince);
        Assert.Null(s.PausedAt);
        Assert.Equal(100, s.BilledRunningSeconds, 6);
        Assert.Equal(Utc(500), s.LastEventAt);
        Assert.Equal(3, s.EventCount);
    }

    public static TheoryData<int> LifecycleSteps => new() { 0, 1, 2, 3 };

    private static readonly SandboxLifecycleEventV1[] Lifecycle =
    [
        Event(SandboxLabels.Create, At(0)),
        Event(SandboxLabels.Pause, At(60), executionMs: 60_000),
        Event(SandboxLabels.Resume, At(120)),
        Event(SandboxLabels.Kill, At(150)),
    ];

    [Theory]
    [MemberData(nameof(LifecycleSteps))]
    public void A_duplicate_event_changes_only_EventCount_and_UpdatedAt(int step)
    {
        var s = Run(Lifecycle[..(step + 1)]);
        var before = Snap(s);

        s = SandboxEventFold.Apply(s, Lifecycle[step], Later);

        Assert.Equal(before with { EventCount = before.EventCount + 1, UpdatedAt = Later }, Snap(s));
    }

    [Fact]
    public void Replaying_the_whole_lifecycle_changes_only_EventCount_and_UpdatedAt()
    {
        var s = Run(Lifecycle);
        var before = Snap(s);
        Assert.Equal(SandboxStates.Killed, before.State);
        Assert.Equal(60 + 30, before.BilledRunningSeconds, 6);

        foreach (var e in Lifecycle)
        {
            s = SandboxEventFold.Apply(s, e, Later);
        }

        Assert.Equal(before with { EventCount = before.EventCount + Lifecycle.Length, UpdatedAt = Later }, Snap(s));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Create_and_kill_at_the_same_instant_end_killed_in_either_order(bool createFirst)
    {
        var create = Event(SandboxLabels.Create, At(0));
        var kill = Event(SandboxLabels.Kill, At(0));

        var s = createFirst ? Run(create, kill) : Run(kill, create);

        Assert.Equal(SandboxStates.Killed, s.State);
        Assert.Equal(Utc(0), s.KilledAt);
        Assert.Equal(Utc(0), s.CreatedAt);
        Assert.Equal(Utc(0), s.StateChangedAt);
        Assert.Null(s.RunningSince);
        Assert.Equal(0, s.BilledRunningSeconds);
        Assert.Equal(2, s.EventCount);
    }

    [Fact]
    public void Create_and_kill_at_the_same_instant_give_the_same_row_in_both_orders()
    {
        var create = Event(SandboxLabels.Create, At(0));
        var kill = Event(SandboxLabels.Kill, At(0));

        Assert.Equal(Snap(Run(create, kill)), Snap(Run(kill, create)));
    }

    [Theory]
    [InlineData(SandboxLabels.Pause)]
    [InlineData(SandboxLabels.Resume)]
    public void A_kill_at_the_same_instant_as_a_pause_or_resume_wins_in_either_order(string label)
    {
        var create = Event(SandboxLabels.Create, At(0));
        var other = Event(label, At(40));
        var kill = Event(SandboxLabels.Kill, At(40));

        var otherFirst = Run(create, other, kill);
        var killFirst = Run(create, kill, other);

        Assert.Equal(SandboxStates.Killed, otherFirst.State);
        Assert.Equal(SandboxStates.Killed, killFirst.State);
        Assert.Equal(Utc(40), otherFirst.KilledAt);
        Assert.Equal(Utc(40), killFirst.KilledAt);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Pause_and_kill_at_the_same_instant_bill_the_same_in_either_order(bool pauseFirst)
    {
        var create = Event(SandboxLabels.Create, At(0));
        var pause = Event(SandboxLabels.Pause, At(40));
        var kill = Event(SandboxLabels.Kill, At(40));

        var s = pauseFirst ? Run(create, pause, kill) : Run(create, kill, pause);

        Assert.Equal(SandboxStates.Killed, s.State);
        Assert.Equal(40, s.BilledRunningSeconds, 6);
    }

    [Fact]
    public void Update_on_an_unknown_sandbox_makes_a_running_row_that_any_real_event_may_move()
    {
        var s = Run(Event(SandboxLabels.Update, At(500)));

        Assert.Equal(SandboxStates.Running, s.State);
        Assert.Equal(DateTime.UnixEpoch, s.StateChangedAt);
        Assert.Null(s.RunningSince);
        Assert.Null(s.CreatedAt);
        Assert.Equal(TemplateId, s.TemplateId);
        Assert.Equal(Utc(500), s.LastEventAt);
        Assert.Equal(1, s.EventCount);

        // Older than the update, but the update set no state, so the pause does.
        s = SandboxEventFold.Apply(s, Event(SandboxLabels.Pause, At(100)), Now);

        Assert.Equal(SandboxStates.Paused, s.State);
        Assert.Equal(Utc(100), s.PausedAt);
        Assert.Equal(Utc(100), s.StateChangedAt);
        Assert.Equal(Utc(500), s.LastEventAt);
        Assert.Equal(2, s.EventCount);
    }

    [Fact]
    public void Create_after_an_update_on_an_unknown_sandbox_starts_the_running_period()
    {
        var s = Run(
            Event(SandboxLabels.Update, At(500)),
            Event(SandboxLabels.Create, At(0)),
            Event(SandboxLabels.Kill, At(700)));

        Assert.Equal(SandboxStates.Killed, s.State);
        Assert.Equal(Utc(0), s.CreatedAt);
        Assert.Equal(700, s.BilledRunningSeconds, 6);
    }

    [Fact]
    public void Update_never_changes_the_state_of_a_paused_sandbox()
    {
        var s = Run(
            Event(SandboxLabels.Create, At(0)),
            Event(SandboxLabels.Pause, At(60)));
        var before = Snap(s);

        s = SandboxEventFold.Apply(s, Event(SandboxLabels.Update, At(90)), Later);

        Assert.Equal(
            before with { LastEventAt = Utc(90), EventCount = before.EventCount + 1, UpdatedAt = Later },
            Snap(s));
    }

    [Theory]
    [InlineData(SandboxStates.Running)]
    [InlineData(SandboxStates.Paused)]
    [InlineData(SandboxStates.Killed)]
    public void An_unknown_label_passes_through_without_changing_the_state(string state)
    {
        var events = new List<SandboxLifecycleEventV1> { Event(SandboxLabels.Create, At(0)) };
        if (state == SandboxStates.Paused)
        {
            events.Add(Event(SandboxLabels.Pause, At(60)));
        }
        else if (state == SandboxStates.Killed)
        {
            events.Add(Event(SandboxLabels.Kill, At(60)));
        }

        var s = Run([.. events]);
        Assert.Equal(state, s.State);
        var before = Snap(s);

        s = SandboxEventFold.Apply(s, Event("snapshot", At(90), executionMs: 500_000), Later);

        Assert.Null(SandboxEventFold.TargetState("snapshot"));
        Assert.Equal(
            before with { LastEventAt = Utc(90), EventCount = before.EventCount + 1, UpdatedAt = Later },
            Snap(s));
    }

    [Fact]
    public void Paused_then_killed_bills_nothing_beyond_the_pause()
    {
        var s = Run(
            Event(SandboxLabels.Create, At(0)),
            Event(SandboxLabels.Pause, At(60)));
        Assert.Equal(60, s.BilledRunningSeconds, 6);

        // The kill carries execution figures too; the sandbox was not running, so they add nothing.
        s = SandboxEventFold.Apply(s, Event(SandboxLabels.Kill, At(600), executionMs: 60_000), Now);

        Assert.Equal(SandboxStates.Killed, s.State);
        Assert.Equal(Utc(600), s.KilledAt);
        Assert.Equal(Utc(60), s.PausedAt);
        Assert.Equal(60, s.BilledRunningSeconds, 6);
    }

    [Fact]
    public void LastEventAt_is_the_latest_timestamp_seen_whatever_the_arrival_order()
    {
        Sandbox? s = null;
        var expected = new[] { 300, 300, 500, 500 };
        var events = new[]
        {
            Event(SandboxLabels.Create, At(300)),
            Event("snapshot", At(100)),
            Event(SandboxLabels.Update, At(500)),
            Event(SandboxLabels.Pause, At(400)),
        };

        for (var i = 0; i < events.Length; i++)
        {
            s = SandboxEventFold.Apply(s, events[i], Now);
            Assert.Equal(Utc(expected[i]), s.LastEventAt);
        }
    }

    [Fact]
    public void Details_from_the_first_event_that_carries_them_are_kept()
    {
        var s = Run(
            Event(SandboxLabels.Update, At(10), templateId: null, teamId: null),
            Event(SandboxLabels.Create, At(0), templateId: "tmpl-first", teamId: "team-first"),
            Event(SandboxLabels.Pause, At(20), templateId: "tmpl-other", teamId: "team-other"));

        Assert.Equal("tmpl-first", s.TemplateId);
        Assert.Equal("team-first", s.TeamId);
    }

    [Fact]
    public void A_newer_event_or_the_kill_clears_the_stale_mark_and_a_late_older_event_does_not()
    {
        var sandbox = Run(Event(SandboxLabels.Create, At(0)), Event(SandboxLabels.Pause, At(60)));
        sandbox.StaleAt = Later;

        Assert.Equal(Later, SandboxEventFold.Apply(sandbox, Event(SandboxLabels.Update, At(30)), Now).StaleAt);
        Assert.Equal(SandboxStates.Paused, sandbox.State);

        Assert.Null(SandboxEventFold.Apply(sandbox, Event(SandboxLabels.Resume, At(90)), Now).StaleAt);

        sandbox.StaleAt = Later;
        var killed = SandboxEventFold.Apply(sandbox, Event(SandboxLabels.Kill, At(80)), Now);
        Assert.Equal((SandboxStates.Killed, (DateTime?)null), (killed.State, killed.StaleAt));
    }

    [Fact]
    public void Apply_updates_the_row_it_is_given_in_place()
    {
        var s = Run(Event(SandboxLabels.Create, At(0)));

        var after = SandboxEventFold.Apply(s, Event(SandboxLabels.Pause, At(10)), Now);

        Assert.Same(s, after);
    }

    public static TheoryData<int[]> ArrivalOrders()
    {
        var data = new TheoryData<int[]>();
        foreach (var order in Permutations([0, 1, 2, 3]))
        {
            data.Add(order);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ArrivalOrders))]
    public void State_and_billed_seconds_do_not_depend_on_arrival_order(int[] order)
    {
        SandboxLifecycleEventV1[] lifecycle =
        [
            Event(SandboxLabels.Create, At(0)),
            Event(SandboxLabels.Pause, At(10)),
            Event(SandboxLabels.Resume, At(20)),
            Event(SandboxLabels.Kill, At(30)),
        ];

        var s = Run([.. order.Select(i => lifecycle[i])]);

        Assert.Equal(SandboxStates.Killed, s.State);
        Assert.Equal(20, s.BilledRunningSeconds, 6);
        Assert.Equal(Utc(0), s.CreatedAt);
        Assert.Equal(Utc(30), s.KilledAt);
        Assert.Null(s.PausedAt); // resumed after the pause
    }

    [Fact]
    public void A_resume_and_a_kill_at_the_same_instant_bill_the_same_in_both_orders()
    {
        var resumeFirst = Run(Event(SandboxLabels.Create, At(0)), Event(SandboxLabels.Resume, At(40)), Event(SandboxLabels.Kill, At(40)));
        var killFirst = Run(Event(SandboxLabels.Create, At(0)), Event(SandboxLabels.Kill, At(40)), Event(SandboxLabels.Resume, At(40)));

        Assert.Equal(40, resumeFirst.BilledRunningSeconds, 6);
        Assert.Equal(40, killFirst.BilledRunningSeconds, 6);
        Assert.Equal(SandboxStates.Killed, resumeFirst.State);
        Assert.Equal(SandboxStates.Killed, killFirst.State);
    }

    private static IEnumerable<int[]> Permutations(int[] items)
    {
        if (items.Length <= 1)
        {
            yield return items;
            yield break;
        }

        for (var i = 0; i < items.Length; i++)
        {
            var rest = items.Where((_, j) => j != i).ToArray();
            foreach (var tail in Permutations(rest))
            {
                yield return [items[i], .. tail];
            }
        }
    }
}
