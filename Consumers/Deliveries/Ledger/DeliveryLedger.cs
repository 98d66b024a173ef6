using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Ledger;

/// <summary>How many delivery rows an endpoint has in each state (and whether a pending one has a due time).</summary>
public sealed record LedgerCount(Guid EndpointId, string Status, bool Scheduled, int Count);

/// <summary>
/// One endpoint's ledger: every matched event is delivered, pending, failed or skipped, so
/// matched == delivered + pending + failed + skipped. A row outside those states, or pending without a due time (which
/// no lane would ever claim), leaves it unbalanced: something was lost, and an alert says so.
/// </summary>
public sealed record DeliveryLedger(int Matched, int Delivered, int Pending, int Failed, int Skipped)
{
    public static readonly DeliveryLedger Empty = new(0, 0, 0, 0, 0);

    public bool Balanced => Matched == Delivered + Pending + Failed + Skipped;

    public static DeliveryLedger From(IEnumerable<LedgerCount> counts)
    {
        var ledger = Empty;
        foreach (var c in counts)
        {
            ledger = ledger with
            {
                Matched = ledger.Matched + c.Count,
                Delivered = ledger.Delivered + (c.Status == DeliveryStatuses.Delivered ? c.Count : 0),
                Pending = ledger.Pending + (c.Status == DeliveryStatuses.Pending && c.Scheduled ? c.Count : 0),
                Failed = ledger.Failed + (c.Status == DeliveryStatuses.Failed ? c.Count : 0),
                Skipped = ledger.Skipped + (c.Status == DeliveryStatuses.Skipped ? c.Count : 0),
            };
        }

        return ledger;
    }

    /// <summary>The sum of several ledgers.</summary>
    public static DeliveryLedger Sum(IEnumerable<DeliveryLedger> ledgers) => ledgers.Aggregate(Empty, (sum, l) => new DeliveryLedger(
        sum.Matched + l.Matched, sum.Delivered + l.Delivered, sum.Pending + l.Pending, sum.Failed + l.Failed, sum.Skipped + l.Skipped));

    /// <summary>Every endpoint's ledger from one grouped count.</summary>
    public static Dictionary<Guid, DeliveryLedger> PerEndpoint(IEnumerable<LedgerCount> counts) =>
        counts.GroupBy(c => c.EndpointId).ToDictionary(g => g.Key, g => From(g));
}
