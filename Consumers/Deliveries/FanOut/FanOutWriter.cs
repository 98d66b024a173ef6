using Microsoft.Extensions.Options;
using Pipeline.Consumers.Deliveries.Events;
using Pipeline.Hosting.Batching;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.FanOut;

public enum FanOutOutcome
{
    /// <summary>The event and its deliveries are committed.</summary>
    FannedOut,

    /// <summary>No endpoint subscribes to the event: nothing written, not even an inbox row.</summary>
    NoSubscriber,

    /// <summary>This message was fanned out before (the inbox has it).</summary>
    Duplicate,
}

/// <summary>What one message's fan-out did; <see cref="Deliveries"/> only for <see cref="FanOutOutcome.FannedOut"/>.</summary>
public readonly record struct FanOutResult(FanOutOutcome Outcome, IReadOnlyList<WebhookDelivery> Deliveries);

/// <summary>
/// Fans messages out group-committed (<c>Deliveries:GroupCommit</c>): the messages consumed together share one
/// transaction, which reads the endpoints once and holds each message's inbox row, event and deliveries. The deliveries
/// written claimed for this process's lanes are handed to them only once that transaction committed. No partition:
/// the lanes promise no order between an endpoint's deliveries (several are in flight at once, retries overtake).
/// </summary>
public sealed class FanOutWriter(IServiceScopeFactory scopes, IOptionsMonitor<GroupCommitOptions> options, ILogger<FanOutWriter> logger)
    : InboxBatchWriter<DeliveriesDbContext, (Guid MessageId, PublicEvent Event), FanOutResult>(
        EventFanOutConsumer.Name, item => item.MessageId, scopes, options, logger)
{
    public const string GroupCommitSection = "Deliveries:GroupCommit";

    /// <summary>Returns once the fan-out of <paramref name="e"/> is committed (or found not needed); throws what refused the commit.</summary>
    /// <param name="retry">The message failed before: it is written in a transaction of its own.</param>
    public Task<FanOutResult> FanOutAsync(Guid messageId, PublicEvent e, bool retry, CancellationToken cancellationToken) =>
        SubmitAsync((messageId, e), cancellationToken, alone: retry);

    protected override async Task WriteAsync(InboxBatch batch, CancellationToken cancellationToken)
    {
        var db = batch.Db;
        var fanOut = batch.Services.GetRequiredService<DeliveryFanOut>();
        var results = batch.Results;
        var handoffs = new List<DeliveryFanOut.Handoff>();
        var deliveries = new List<WebhookDelivery>();
        bool[] applied;
        try
        {
            // The inbox rows and events are saved by the inbox, then the deliveries are inserted after their events, then
            // all of it commits at once.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            applied = await batch.ApplyOnceAsync(async (indexes, ct) =>
            {
                // A second attempt starts over: what the first reserved in the lanes is given back.
                CancelAll(handoffs);
                deliveries.Clear();
                if (indexes.Count == 0)
                {
                    return [];
                }

                var endpoints = await fanOut.EndpointsAsync(ct);
                var unsubscribed = new List<int>();
                foreach (var i in indexes)
                {
                    var (messageId, e) = batch.Items[i];
                    var subscribers = endpoints.Subscribers(e.Type);
                    if (subscribers.Count == 0)
                    {
                        results[i] = new FanOutResult(FanOutOutcome.NoSubscriber, []);
                        unsubscribed.Add(i); // no inbox row either, as before there was a batch
                        continue;
                    }

                    var (added, handoff) = fanOut.AddClaimed(e, messageId, subscribers);
                    handoffs.Add(handoff);
                    deliveries.AddRange(added);
                    results[i] = new FanOutResult(FanOutOutcome.FannedOut, added);
                }

                return unsubscribed;
            }, cancellationToken);
            await fanOut.WriteAsync(deliveries, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch
        {
            CancelAll(handoffs);
            throw;
        }

        foreach (var handoff in handoffs)
        {
            handoff.Commit();
        }

        for (var i = 0; i < results.Length; i++)
        {
            if (!applied[i] && results[i].Outcome != FanOutOutcome.NoSubscriber)
            {
                results[i] = new FanOutResult(FanOutOutcome.Duplicate, []);
            }
        }
    }

    private static void CancelAll(List<DeliveryFanOut.Handoff> handoffs)
    {
        foreach (var handoff in handoffs)
        {
            handoff.Cancel();
        }

        handoffs.Clear();
    }
}
