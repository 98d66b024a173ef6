using System.Diagnostics;
using System.Text;
using Pipeline.Ingress.Providers.E2b;
using Pipeline.Ingress.Providers.LiveKit;
using Pipeline.Ingress.Providers.NewApi;

namespace Pipeline.Benchmarks;

/// <summary>
/// The CPU part of accepting a webhook that the database benchmarks leave out: a verified body turned into its message,
/// one typical body per provider, on one thread.
/// </summary>
internal static class NormalizeBench
{
    private static readonly byte[] E2bBody = Encoding.UTF8.GetBytes(
        """{"id":"cf90f3ef-c69c-4b3e-9d1a-000000000001","version":"v2","type":"sandbox.lifecycle.killed","timestamp":"2026-01-29T10:00:00Z","event_category":"lifecycle","event_label":"kill","event_data":{"sandbox_metadata":{"user":"42"},"execution":{"started_at":"2026-01-29T09:58:20Z","vcpu_count":2,"memory_mb":512,"execution_time":100000}},"sandbox_id":"iabc123def456ghi789jk","sandbox_execution_id":"1dae9e1c-9957-4ce7-a236-a99d5779aadf","sandbox_template_id":"rki5dems9wqfm4r03t7g","sandbox_build_id":"a979a14b-bdcc-49e6-bc04-1189fc9fe7c2","sandbox_team_id":"460355b3-4f64-48f9-9a16-4442817f79f5"}""");

    private static readonly byte[] NewApiBody = Encoding.UTF8.GetBytes(
        """{"type":"consume","title":"","content":"","timestamp":1700000100,"data":{"request_id":"20251108100000123456789abcdef","user_id":42,"username":"alice","token_id":7,"token_name":"default","model_name":"gpt-4o-mini","quota":1500,"prompt_tokens":100,"completion_tokens":20,"use_time":2,"is_stream":true,"group":"default","channel":3,"created_at":1700000099}}""");

    private static readonly byte[] LiveKitBody = Encoding.UTF8.GetBytes(
        """{"event":"participant_joined","room":{"sid":"RM_hycBMAjmt6Ub","name":"demo","emptyTimeout":300,"departureTimeout":20,"creationTime":"1771351907","creationTimeMs":"1771351907123","turnPassword":"x","enabledCodecs":[{"mime":"audio/opus"},{"mime":"video/VP8"}],"maxParticipants":10,"numParticipants":2},"participant":{"sid":"PA_abc","identity":"alice","name":"Alice","state":"ACTIVE","joinedAt":"1771351910","joinedAtMs":"1771351910456","permission":{"canSubscribe":true,"canPublish":true},"isPublisher":true},"id":"EV_3x5XdPaHgE8M","createdAt":"1771351911"}""");

    public static void Run(int count, int rounds)
    {
        var receiptId = Guid.CreateVersion7();
        var receivedAt = DateTimeOffset.UtcNow;
        Console.WriteLine($"normalize: {count} bodies per run, median of {rounds} runs, one thread; {Environment.ProcessorCount} cores");
        Measure("e2b v2", E2bBody, count, rounds, body => E2bEventNormalizer.Normalize(body, receiptId).IsValid);
        Measure("new-api consume", NewApiBody, count, rounds, body => NewApiEventNormalizer.Normalize(body, receiptId).IsValid);
        Measure("livekit participant", LiveKitBody, count, rounds, body => LiveKitEventNormalizer.Normalize(body, receiptId, receivedAt).IsValid);
    }

    private static void Measure(string name, byte[] body, int count, int rounds, Func<byte[], bool> normalize)
    {
        if (!normalize(body))
        {
            throw new InvalidOperationException($"{name}: the sample body does not normalize");
        }

        var runs = new List<(double NanosecondsEach, long BytesEach)>();
        for (var round = 0; round <= rounds; round++)
        {
            var allocated = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                normalize(body);
            }

            clock.Stop();
            if (round > 0) // the first run warms up the JIT
            {
                runs.Add((clock.Elapsed.TotalNanoseconds / count, (GC.GetAllocatedBytesForCurrentThread() - allocated) / count));
            }
        }

        var median = runs.OrderBy(r => r.NanosecondsEach).ElementAt(runs.Count / 2);
        Console.WriteLine($"  {name,-20}{median.NanosecondsEach,8:0} ns per body   {median.BytesEach,6} bytes allocated per body   ({body.Length} bytes)");
    }
}
