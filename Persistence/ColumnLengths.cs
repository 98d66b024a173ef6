namespace Pipeline.Persistence;

/// <summary>
/// The lengths of the text columns that hold what webhook senders send. The DbContexts declare their columns with
/// these, and Ingress checks against them before it answers 200: a longer dedup key is hashed, a longer id is refused
/// with 400, so nothing that was accepted can fail on insert further down the pipeline. Changing one changes a schema.
/// </summary>
public static class ColumnLengths
{
    /// <summary><c>ingress_receipts.DedupKey</c>.</summary>
    public const int DedupKey = 200;

    /// <summary><c>sandboxes</c>: the sandbox, template, team, build and execution ids.</summary>
    public const int SandboxId = 100;

    /// <summary>The Rooms tables' keys: room, participant, track and egress sids, and the applied LiveKit event ids.</summary>
    public const int RoomSid = 100;

    /// <summary><c>room_egress_results.Status</c>.</summary>
    public const int EgressStatus = 32;
}
