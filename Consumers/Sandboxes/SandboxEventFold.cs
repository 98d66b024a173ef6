using System.Text.Json;
using Pipeline.Messages.Sandboxes;
using Pipeline.Persistence.Sandboxes;

namespace Pipeline.Consumers.Sandboxes;

public static class SandboxStates
{
    public const string Running = "running";
    public const string Paused = "paused";
    public const string Killed = "killed";
}

/// <summary>
/// created → running ⇄ paused → killed. Events arrive late and more than once, so the sandbox keeps the
/// state-changing events it has seen and replays them in time order (ties go to the later lifecycle step) each
/// time one is added: the outcome, billed seconds included, is the same whatever the arrival order. Killed is
/// final. Details (template, team, creation time) are filled in by whichever event brings them. A stale mark is
/// cleared by an event newer than any seen before (the sandbox spoke again) and by the kill. A pure fold of events
/// into a sandbox row, not a MassTransit saga: the consumer loads the row, applies, and saves with its inbox row.
/// </summary>
public static class SandboxEventFold
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <returns>The sandbox after the event; a new instance when <paramref name="current"/> is null.</returns>
    public static Sandbox Apply(Sandbox? current, SandboxLifecycleEventV1 e, DateTime now)
    {
        var at = e.OccurredAt.UtcDateTime;
        var sandbox = current ?? new Sandbox { SandboxId = e.SandboxId, State = SandboxStates.Running };
        var isNewest = current is null || at >= sandbox.LastEventAt;

        var steps = ReadHistory(sandbox.History);
        if (TargetState(e.Label) is not null && !steps.Exists(s => s.EventId == e.EventId))
        {
            steps.Add(new LifecycleStep(e.EventId, e.Label, at, e.Execution?.ExecutionTimeMs, e.Execution?.StartedAt?.UtcDateTime));
            steps.Sort((a, b) => a.At != b.At ? a.At.CompareTo(b.At) : Rank(a.Label).CompareTo(Rank(b.Label)));
            sandbox.History = JsonSerializer.Serialize(steps, Json);
        }

        Replay(sandbox, steps);
        FillDetails(sandbox, e, isNewest);
        if (e.Label == SandboxLabels.Create && (sandbox.CreatedAt is null || at < sandbox.CreatedAt))
        {
            sandbox.CreatedAt = at;
        }

        if (isNewest || sandbox.State == SandboxStates.Killed)
        {
            sandbox.StaleAt = null;
        }

        sandbox.LastEventAt = current is null || at > sandbox.LastEventAt ? at : sandbox.LastEventAt;
        sandbox.EventCount++;
        sandbox.UpdatedAt = now;
        return sandbox;
    }

    /// <summary>The state an event leads to, or null for events that do not change it (update, unknown labels).</summary>
    public static string? TargetState(string label) => label switch
    {
        SandboxLabels.Create or SandboxLabels.Resume => SandboxStates.Running,
        SandboxLabels.Pause => SandboxStates.Paused,
        SandboxLabels.Kill => SandboxStates.Killed,
        _ => null,
    };

    private static void Replay(Sandbox sandbox, List<LifecycleStep> steps)
    {
        string? state = null;
        var stateAt = DateTime.UnixEpoch;
        double billed = 0;
        DateTime? runningSince = null, pausedAt = null, killedAt = null;
        foreach (var step in steps)
        {
            if (state == SandboxStates.Killed)
            {
                break;
            }

            var target = TargetState(step.Label);
            if (target == state)
            {
                continue; // a resume while running, a second pause: nothing changes
            }

            if (state is null or SandboxStates.Running && target != SandboxStates.Running)
            {
                billed += RunningSeconds(step, runningSince);
            }

            runningSince = target == SandboxStates.Running ? step.At : null;
            pausedAt = target switch
            {
                SandboxStates.Paused => step.At,
                SandboxStates.Running => null,
                _ => pausedAt, // killed while paused: keep when it paused
            };
            killedAt = target == SandboxStates.Killed ? step.At : null;
            state = target;
            stateAt = step.At;
        }

        // Only updates so far: the sandbox exists and runs, and any state-changing event may set its state.
        sandbox.State = state ?? SandboxStates.Running;
        sandbox.StateChangedAt = stateAt;
        sandbox.RunningSince = runningSince;
        sandbox.PausedAt = pausedAt;
        sandbox.KilledAt = killedAt;
        sandbox.BilledRunningSeconds = billed;
    }

    /// <summary>The running period that ends with this step: E2B's own execution time when it sends one.</summary>
    private static double RunningSeconds(LifecycleStep step, DateTime? runningSince)
    {
        if (step.ExecutionMs is { } ms and >= 0)
        {
            return ms / 1000.0;
        }

        var since = runningSince ?? step.ExecutionStartedAt;
        return since is { } start && step.At > start ? (step.At - start).TotalSeconds : 0;
    }

    private static void FillDetails(Sandbox sandbox, SandboxLifecycleEventV1 e, bool isNewest)
    {
        sandbox.TemplateId ??= e.TemplateId;
        sandbox.TeamId ??= e.TeamId;
        sandbox.BuildId ??= e.BuildId;
        if (isNewest && e.ExecutionId is not null)
        {
            sandbox.ExecutionId = e.ExecutionId;
        }

        if (isNewest && e.Metadata is { Count: > 0 })
        {
            sandbox.Metadata = JsonSerializer.Serialize(e.Metadata);
        }
    }

    private static List<LifecycleStep> ReadHistory(string? json) =>
        json is null ? [] : JsonSerializer.Deserialize<List<LifecycleStep>>(json, Json) ?? [];

    private static int Rank(string label) => label switch
    {
        SandboxLabels.Create => 0,
        SandboxLabels.Resume or SandboxLabels.Pause => 1,
        SandboxLabels.Kill => 2,
        _ => -1,
    };

    private sealed record LifecycleStep(string EventId, string Label, DateTime At, long? ExecutionMs, DateTime? ExecutionStartedAt);
}
