using Microsoft.Extensions.Options;
using Pipeline.Hosting;
using Pipeline.Hosting.Bus;
using Pipeline.Hosting.DeadLetters;
using Pipeline.Hosting.Outbox;
using Pipeline.Persistence.Ingress;
using RabbitMQ.Client.Exceptions;

namespace Pipeline.Ingress.Admin;

/// <summary>
/// The operator's HTTP API (bearer admin key): dead letters and the outbox, the same operations as pipeline-ops.
/// </summary>
public static class AdminApi
{
    public static void MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/api/admin").RequireAdminKey();

        admin.MapGet("/outbox", async (OutboxStore<IngressDbContext> store, CancellationToken ct) =>
        {
            var (pending, oldest) = await store.BacklogAsync(ct);
            return Results.Ok(new { table = "ingress_outbox", pending, oldestPendingAgeSeconds = oldest is { } at ? (DateTime.UtcNow - at).TotalSeconds : 0 });
        });

        // Counts only (queue list and a passive declare per queue): no message is read, so a dashboard may poll it.
        admin.MapGet("/dead-letters/counts", (string? queue, IOptions<BusOptions> bus, CancellationToken ct) =>
            WithDeadLetters(bus.Value, ct, async client => Results.Ok((await client.ListQueuesAsync(queue, ct)).Select(q => new
            {
                queue = q.Name,
                count = q.Messages,
                ready = q.Ready,
                unacknowledged = q.Unacknowledged,
            }))));

        // Grouped detail: reads (and returns) up to 10,000 letters per queue; on demand, not for polling.
        admin.MapGet("/dead-letters", (string? queue, IOptions<BusOptions> bus, CancellationToken ct) =>
            WithDeadLetters(bus.Value, ct, async client =>
            {
                var result = new List<object>();
                foreach (var q in await client.ListQueuesAsync(queue, ct))
                {
                    var letters = await client.BrowseAsync(q.Name, 10_000, ct);
                    result.Add(new
                    {
                        queue = q.Name,
                        count = q.Messages,
                        repeats = DeadLetterClient.Repeats(letters),
                        oldest = letters.Min(l => l.FaultedAt),
                        groups = letters.GroupBy(l => new { exceptionType = l.ExceptionType, messageType = l.MessageType })
                            .Select(g => new { g.Key.exceptionType, g.Key.messageType, count = g.Count() }),
                        recent = letters.OrderByDescending(l => l.FaultedAt).Take(50).Select(Summary),
                    });
                }

                return Results.Ok(result);
            }));

        admin.MapGet("/dead-letters/{messageId}", (string messageId, IOptions<BusOptions> bus, CancellationToken ct) =>
            WithDeadLetters(bus.Value, ct, async client =>
            {
                foreach (var q in await client.ListQueuesAsync(null, ct))
                {
                    if ((await client.BrowseAsync(q.Name, int.MaxValue, ct)).FirstOrDefault(l => l.MessageId == messageId) is { } letter)
                    {
                        return Results.Ok(letter);
                    }
                }

                return Results.NotFound(new { error = "not_found", message = $"No dead letter with MessageId {messageId}." });
            }));

        admin.MapPost("/dead-letters/replay", (DeadLetterRequest request, IOptions<BusOptions> bus, CancellationToken ct) =>
            WithDeadLetters(bus.Value, ct, async client =>
                Results.Ok(await client.ReplayAsync(request.Filter(), request.DryRun, request.Rate, ct))));

        admin.MapPost("/dead-letters/purge", (DeadLetterRequest request, IOptions<BusOptions> bus, CancellationToken ct) =>
            !request.Confirm && !request.DryRun
                ? Task.FromResult(Results.BadRequest(new { error = "confirm_required", message = "Purging deletes dead letters for good: send \"confirm\": true." }))
                : WithDeadLetters(bus.Value, ct, async client => Results.Ok(await client.PurgeAsync(request.Filter(), request.DryRun, ct))));
    }

    private static async Task<IResult> WithDeadLetters(BusOptions bus, CancellationToken ct, Func<DeadLetterClient, Task<IResult>> action)
    {
        if (bus.Transport != BusTransport.RabbitMq)
        {
            return Results.Json(new { error = "not_available", message = "Dead letters are kept by RabbitMQ; the in-memory transport has none to manage." },
                statusCode: StatusCodes.Status501NotImplemented);
        }

        try
        {
            await using var client = await DeadLetterClient.ConnectAsync(new Uri(bus.RabbitMq!), bus.ManagementUri(), ct);
            return await action(client);
        }
        catch (Exception ex) when (ex is BrokerUnreachableException or AlreadyClosedException or OperationInterruptedException or HttpRequestException)
        {
            // Nothing is lost: whatever a replay or purge had not finished stays in its queue.
            return Results.Json(new { error = "broker_unavailable", message = $"RabbitMQ could not be reached ({ex.Message})." },
                statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static object Summary(DeadLetter l) => new
    {
        l.MessageId, l.Queue, l.MessageType, l.ExceptionType, l.ExceptionMessage, l.FaultedAt,
    };
}

/// <summary>Which dead letters to replay or purge; every filter is optional.</summary>
public sealed record DeadLetterRequest(
    string? Queue, string? MessageId, string? ExceptionType, string? MessageType, DateTimeOffset? Since, DateTimeOffset? Until,
    bool DryRun = false, double? Rate = null, bool Confirm = false)
{
    public DeadLetterFilter Filter() => new(Queue, MessageId, ExceptionType, MessageType, Since, Until);
}
