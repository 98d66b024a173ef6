using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Pipeline.IntegrationTests.Infrastructure;
using Pipeline.IntegrationTests.Interop;
using Pipeline.Persistence;

namespace Pipeline.IntegrationTests.Hardening;

/// <summary>
/// Ids longer than the columns that store them, on PostgreSQL (which refuses a value too long, as SQL Server does): an
/// over-long event id is keyed by its hash instead of failing the receipt's insert with 500 on every retry, and an id
/// the consumer would have to store is refused with 400 instead of being answered 200 and failing in the consumer.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class OverLongFieldTests(TestServices services)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Over_long_E2B_and_LiveKit_ids_are_hashed_or_refused_never_a_500_nor_a_dead_letter()
    {
        var (apiKey, apiSecret) = ("APIlong", Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)));
        await using var pipeline = await PipelineTopology.StartAsync(services, new TopologyOptions
        {
            IngressEnvironment = { ["LIVEKIT_API_KEY"] = apiKey, ["LIVEKIT_API_SECRET"] = apiSecret },
        });

        // A sandbox id the registry cannot hold: refused up front, with the reason.
        var tooLong = await pipeline.PostE2bAsync(E2bEvents.V2("create", new string('s', ColumnLengths.SandboxId + 1), DateTime.UtcNow));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Contains($"sandbox id is longer than {ColumnLengths.SandboxId} characters", await tooLong.Content.ReadAsStringAsync());
        var longTeam = E2bEvents.V2("create", "sbx-long-team", DateTime.UtcNow).Replace("\"team-1\"", $"\"{new string('t', ColumnLengths.SandboxId + 1)}\"", StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await pipeline.PostE2bAsync(longTeam)).StatusCode);

        // The longest sandbox id that fits, under an event id longer than the receipt's column: recorded once, applied.
        var sandboxId = new string('s', ColumnLengths.SandboxId);
        var body = E2bEvents.V2("create", sandboxId, DateTime.UtcNow, id: new string('e', ColumnLengths.DedupKey * 2));
        Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(body)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await pipeline.PostE2bAsync(body)).StatusCode);
        Assert.Equal(1, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        await Eventually.WaitAsync(() => pipeline.GetSandboxAsync(sandboxId), s => s is not null, Deadline,
            "the sandbox with the longest id to be registered", pipeline.Diagnostics);

        // A LiveKit event id longer than the receipt's column.
        var room = $$"""{"event":"room_started","id":"EV_{{new string('x', 250)}}","room":{"sid":"RM_long","name":"long"},"createdAt":"{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}}"}""";
        Assert.False(await DuplicateAsync(await pipeline.IngressHttp.SendAsync(LiveKitTestSigner.SignedRequest(room, apiKey, apiSecret))));
        Assert.True(await DuplicateAsync(await pipeline.IngressHttp.SendAsync(LiveKitTestSigner.SignedRequest(room, apiKey, apiSecret))));

        Assert.Equal(2, await pipeline.CountAsync("SELECT count(*) FROM ingress_receipts"));
        Assert.Equal(0, await pipeline.CountAsync($"""SELECT count(*) FROM ingress_receipts WHERE length("DedupKey") > {ColumnLengths.DedupKey}"""));
    }

    private static async Task<bool> DuplicateAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        return json.RootElement.TryGetProperty("duplicate", out var duplicate) && duplicate.GetBoolean();
    }
}
