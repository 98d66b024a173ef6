using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.Consumers.Deliveries.Events;

namespace Pipeline.UnitTests.Deliveries;

/// <summary>docs/events.md shows, for every type of the catalogue, the body the service really sends.</summary>
public class EventCatalogueDocsTests
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [Fact]
    public void Every_event_type_is_documented_with_the_body_it_really_has()
    {
        var docs = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "events.md"));
        var samples = EventSamples.All().ToList();

        Assert.Equal(EventCatalogue.Types.Order(), samples.Select(s => s.Type).Order());
        foreach (var sample in samples)
        {
            var expected = Pretty(sample.Serialize());
            var match = Regex.Match(docs, $"### `{Regex.Escape(sample.Type)}`\\n.*?```json\\n(.*?)\\n```", RegexOptions.Singleline);
            Assert.True(match.Success, $"docs/events.md has no section ### `{sample.Type}` with a json block; it should show:{Environment.NewLine}{expected}");
            Assert.True(expected == match.Groups[1].Value.Trim(), $"docs/events.md's {sample.Type} differs from what is sent:{Environment.NewLine}{expected}");
        }
    }

    public static string Pretty(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement, Indented);

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Pipeline.sln not found.");
    }
}
