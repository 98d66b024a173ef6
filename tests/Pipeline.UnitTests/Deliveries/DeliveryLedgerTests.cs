using Pipeline.Consumers.Deliveries.Ledger;

namespace Pipeline.UnitTests.Deliveries;

public class DeliveryLedgerTests
{
    private static readonly Guid A = Guid.NewGuid();
    private static readonly Guid B = Guid.NewGuid();

    [Fact]
    public void Every_matched_delivery_is_in_exactly_one_state()
    {
        var ledger = DeliveryLedger.From(
        [
            new LedgerCount(A, "delivered", false, 7),
            new LedgerCount(A, "pending", true, 2),
            new LedgerCount(A, "failed", false, 1),
            new LedgerCount(A, "skipped", false, 3),
        ]);

        Assert.Equal(new DeliveryLedger(13, 7, 2, 1, 3), ledger);
        Assert.True(ledger.Balanced);
    }

    [Fact]
    public void A_pending_delivery_without_a_due_time_or_an_unknown_state_unbalances_it()
    {
        Assert.False(DeliveryLedger.From([new LedgerCount(A, "delivered", false, 1), new LedgerCount(A, "pending", false, 1)]).Balanced);
        Assert.False(DeliveryLedger.From([new LedgerCount(A, "sending", false, 1)]).Balanced);
    }

    [Fact]
    public void Ledgers_are_kept_per_endpoint_and_add_up()
    {
        var per = DeliveryLedger.PerEndpoint(
        [
            new LedgerCount(A, "delivered", false, 4),
            new LedgerCount(B, "failed", false, 2),
            new LedgerCount(B, "pending", false, 1),
        ]);

        Assert.True(per[A].Balanced);
        Assert.False(per[B].Balanced);
        Assert.Equal(new DeliveryLedger(7, 4, 0, 2, 0), DeliveryLedger.Sum(per.Values));
    }
}
