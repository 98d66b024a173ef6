namespace Pipeline.Messages.Sandboxes;

/// <summary>E2B's lifecycle labels, as they appear in <see cref="SandboxLifecycleEventV1.Label"/>.</summary>
public static class SandboxLabels
{
    public const string Create = "create";
    public const string Kill = "kill";
    public const string Pause = "pause";
    public const string Resume = "resume";
    public const string Update = "update";
}
