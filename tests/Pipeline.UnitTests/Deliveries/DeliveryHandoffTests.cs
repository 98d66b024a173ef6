using Pipeline.Consumers.Deliveries.Sending;

namespace Pipeline.UnitTests.Deliveries;

public sealed class DeliveryHandoffTests
{
    private static ClaimedDelivery Claimed(Guid endpointId, int n) =>
        new(Guid.NewGuid(), endpointId, $"evt_{n}", "sandbox.created", 0, 0, "{}", "owner/token", DateTime.UtcNow.AddMinutes(2));

    [Fact]
    public void An_endpoint_without_a_running_lane_takes_nothing()
    {
        var handoff = new DeliveryHandoff();
        Assert.False(handoff.TryReserve(Guid.NewGuid()));
    }

    [Fact]
    public void Room_is_bounded_per_endpoint_and_freed_by_taking_or_cancelling()
    {
        var handoff = new DeliveryHandoff();
        var a = Guid.NewGuid();
        var b = Guid.NewGuid();
        handoff.Open(a, 2);
        handoff.Open(b, 1);

        Assert.True(handoff.TryReserve(a));
        Assert.True(handoff.TryReserve(a));
        Assert.False(handoff.TryReserve(a));
        Assert.True(handoff.TryReserve(b)); // one endpoint's backlog takes none of another's room

        handoff.Cancel([a]);
        Assert.True(handoff.TryReserve(a));
        Assert.False(handoff.TryReserve(a));

        handoff.Hand([Claimed(a, 1), Claimed(a, 2)]);
        Assert.Equal(2, handoff.Waiting(a));
        Assert.True(handoff.TryTake(a, out var first));
        Assert.Equal("evt_1", first.EventId);
        Assert.True(handoff.TryReserve(a));
        Assert.False(handoff.TryReserve(a));
    }

    [Fact]
    public void A_claim_reserves_the_free_room_and_gives_back_what_it_did_not_use()
    {
        var handoff = new DeliveryHandoff();
        var a = Guid.NewGuid();
        handoff.Open(a, 8);
        Assert.True(handoff.TryReserve(a)); // a fan-out's hand-off, not yet committed
        Assert.Equal(7, handoff.ReserveFree(a));
        Assert.Equal(0, handoff.ReserveFree(a));
        Assert.False(handoff.TryReserve(a));

        handoff.Hand([Claimed(a, 1), Claimed(a, 2)]); // the claim found two rows
        handoff.Cancel(a, 5);
        Assert.Equal(2, handoff.Waiting(a));
        Assert.Equal(5, handoff.ReserveFree(a)); // 8 less the hand-off and the two waiting
        Assert.Equal(0, handoff.ReserveFree(Guid.NewGuid()));
    }

    [Fact]
    public void A_resized_queue_takes_up_to_its_new_capacity()
    {
        var handoff = new DeliveryHandoff();
        var a = Guid.NewGuid();
        handoff.Open(a, 2);
        Assert.Equal(2, handoff.ReserveFree(a));
        handoff.Resize(a, 5);
        Assert.Equal(3, handoff.ReserveFree(a));
        handoff.Resize(a, 1); // shrunk below what is reserved: nothing more until it drains
        Assert.False(handoff.TryReserve(a));
        handoff.Cancel(a, 5);
        Assert.True(handoff.TryReserve(a));
        Assert.False(handoff.TryReserve(a));
    }

    [Theory]
    [InlineData(0.0, 8, 32)] // a hanging endpoint: four rounds, sent within a minute even if every send times out
    [InlineData(1.0, 8, 32)]
    [InlineData(20.0, 8, 200)] // about ten seconds of sends
    [InlineData(5_000.0, 8, 512)] // a fast one: at most 64 rounds
    [InlineData(5_000.0, 1, 64)]
    public void The_queue_holds_about_ten_seconds_of_an_endpoints_sends(double sendsPerSecond, int maxInFlight, int expected) =>
        Assert.Equal(expected, DeliveryHandoff.CapacityFor(sendsPerSecond, maxInFlight));

    [Fact]
    public void Nothing_waits_for_a_lane_that_stopped()
    {
        var handoff = new DeliveryHandoff();
        var a = Guid.NewGuid();
        handoff.Open(a, 4);
        Assert.True(handoff.TryReserve(a));
        handoff.Close(a);
        handoff.Hand([Claimed(a, 1)]);

        Assert.Equal(0, handoff.Waiting(a));
        Assert.False(handoff.TryTake(a, out _));
        Assert.False(handoff.TryReserve(a));
    }

    [Fact]
    public void Concurrent_reservations_never_exceed_the_room()
    {
        var handoff = new DeliveryHandoff();
        var a = Guid.NewGuid();
        handoff.Open(a, 100);
        var granted = 0;
        Parallel.For(0, 10_000, _ =>
        {
            if (handoff.TryReserve(a))
            {
                Interlocked.Increment(ref granted);
            }
        });

        Assert.Equal(100, granted);
    }
}
