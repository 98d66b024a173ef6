using Pipeline.Consumers.Deliveries.Events;

namespace Pipeline.UnitTests.Deliveries;

public class EventSubscriptionsTests
{
    [Theory]
    [InlineData("sandbox.*", "sandbox.created", true)]
    [InlineData("sandbox.*", "sandbox.killed", true)]
    [InlineData("sandbox.*", "credits.exhausted", false)]
    [InlineData("credits.exhausted", "credits.exhausted", true)]
    [InlineData("credits.exhausted", "credits.balance_low", false)]
    [InlineData("*", "room.started", true)]
    [InlineData("room.*", "room.started", true)]
    [InlineData("room.*", "roomy.started", false)]
    public void Patterns_match_exact_names_prefixes_and_everything(string pattern, string type, bool matches) =>
        Assert.Equal(matches, EventSubscriptions.Matches([pattern], type));

    [Fact]
    public void Known_names_prefixes_and_the_wildcard_are_valid()
    {
        Assert.Null(EventSubscriptions.Validate(["sandbox.*", "credits.exhausted", "webhook.received"]));
        Assert.Null(EventSubscriptions.Validate(["*"]));
    }

    [Fact]
    public void Unknown_names_are_refused_with_the_catalogue()
    {
        var error = EventSubscriptions.Validate(["sandbox.*", "sandbox.exploded", "nothing.*", "*.created"]);

        Assert.NotNull(error);
        Assert.StartsWith("Unknown event type(s): 'sandbox.exploded', 'nothing.*', '*.created'.", error);
        foreach (var type in EventCatalogue.Types)
        {
            Assert.Contains(type, error);
        }
    }

    [Fact]
    public void Only_a_few_unknown_names_are_quoted_back_each_cut_short()
    {
        var error = EventSubscriptions.Validate([new string('x', 5000), .. Enumerable.Range(0, 90).Select(i => $"nope.{i}")]);

        Assert.NotNull(error);
        Assert.StartsWith($"Unknown event type(s): '{new string('x', 100)}…', 'nope.0', 'nope.1', 'nope.2', 'nope.3' and 86 more.", error);
        Assert.True(error.Length < 1000, $"{error.Length} characters");
    }

    [Fact]
    public void An_empty_subscription_is_refused() =>
        Assert.StartsWith("eventTypes must list at least one event type", EventSubscriptions.Validate([]));

    [Fact]
    public void Every_catalogue_name_is_a_lowercase_prefix_and_name()
    {
        Assert.Equal(EventCatalogue.Types.Count, EventCatalogue.Types.Distinct().Count());
        Assert.All(EventCatalogue.Types, t => Assert.Matches("^[a-z]+\\.[a-z_]+$", t));
        Assert.All(EventCatalogue.LiveKit.Values.Concat(EventCatalogue.SandboxLabels.Values), t => Assert.Contains(t, EventCatalogue.Types));
    }
}
