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
/// created → running ⇄ paused → killed. Events arrive late and more than once, so an event only moves the state
/// when it is newer than the event that set the current state (ties go to the later step of the lifecycle), and
/// killed is final. An older event still fills in what is missing (template, team, creation time).
/// </summary>
public static class SandboxStateMachine
{
    /// <returns>The sandbox after the event; a new instance when <paramref name="current"/> is null.</returns>
    public static Sandbox Apply(Sandbox? current, SandboxLifecycleEventV1 e, DateTime now)
    {
        var at = e.OccurredAt.UtcDateTime;
        var target = TargetState(e.Label);
        var sandbox = current ?? new Sandbox
        {
            SandboxId = e.SandboxId,
            State = target ?? SandboxStates.Running,
            // Until a state-changing event arrives, any such event may set the state.
            StateChangedAt = DateTime.UnixEpoch,
        };
        var isNew = current is null;

        FillDetails(sandbox, e);
        if (e.Label == SandboxLabels.Create && (sandbox.CreatedAt is null || at < sandbox.CreatedAt))
        {
            sandbox.CreatedAt = at;
        }

        if (target is not null && (isNew || MovesForward(sandbox, e.Label, at)))
        {
            Transition(sandbox, target, e, at, isNew);
        }

        sandbox.LastEventAt = sandbox.EventCount == 0 || at > sandbox.LastEventAt ? at : sandbox.LastEventAt;
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

    private static bool MovesForward(Sandbox sandbox, string label, DateTime at)
    {
        if (sandbox.State == SandboxStates.Killed)
        {
            return false;
        }

        if (at != sandbox.StateChangedAt)
        {
            return at > sandbox.StateChangedAt;
        }

        // Same instant: the later lifecycle step wins, so the outcome does not depend on arrival order.
        return Rank(label) > Rank(LabelOf(sandbox.State));
    }

    private static void Transition(Sandbox sandbox, string target, SandboxLifecycleEventV1 e, DateTime at, bool isNew)
    {
        var wasRunning = !isNew && sandbox.State == SandboxStates.Running;
        if (target != SandboxStates.Running && (wasRunning || isNew))
        {
            sandbox.BilledRunningSeconds += RunningSeconds(sandbox, e, at);
        }

        switch (target)
        {
            case SandboxStates.Running:
                sandbox.RunningSince = at;
                sandbox.PausedAt = null;
                break;
            case SandboxStates.Paused:
                sandbox.RunningSince = null;
                sandbox.PausedAt = at;
                break;
            case SandboxStates.Killed:
                sandbox.RunningSince = null;
                sandbox.KilledAt = at;
                break;
        }

        sandbox.State = target;
        sandbox.StateChangedAt = at;
    }

    /// <summary>The running period that ends with this event: E2B's own execution time when it sends one.</summary>
    private static double RunningSeconds(Sandbox sandbox, SandboxLifecycleEventV1 e, DateTime at)
    {
        if (e.Execution?.ExecutionTimeMs is { } ms and >= 0)
        {
            return ms / 1000.0;
        }

        var since = sandbox.RunningSince ?? e.Execution?.StartedAt?.UtcDateTime;
        return since is { } start && at > start ? (at - start).TotalSeconds : 0;
    }

    private static void FillDetails(Sandbox sandbox, SandboxLifecycleEventV1 e)
    {
        sandbox.TemplateId ??= e.TemplateId;
        sandbox.TeamId ??= e.TeamId;
        sandbox.BuildId ??= e.BuildId;
        if (e.ExecutionId is not null)
        {
            sandbox.ExecutionId = e.ExecutionId;
        }

        if (e.Metadata is { Count: > 0 })
        {
            sandbox.Metadata = JsonSerializer.Serialize(e.Metadata);
        }
    }

    private static int Rank(string label) => label switch
    {
        SandboxLabels.Create => 0,
        SandboxLabels.Resume or SandboxLabels.Pause => 1,
        SandboxLabels.Kill => 2,
        _ => -1,
    };

    private static string LabelOf(string state) => state switch
    {
        SandboxStates.Paused => SandboxLabels.Pause,
        SandboxStates.Killed => SandboxLabels.Kill,
        _ => SandboxLabels.Create,
    };
}
