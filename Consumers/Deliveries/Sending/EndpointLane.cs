using System.Diagnostics;
using System.Text.Json;
using System.Threading.RateLimiting;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.Consumers.Deliveries.Sending;

/// <summary>
/// The sending side of one enabled endpoint in this process: it claims that endpoint's due deliveries, at most
/// <c>Deliveries:MaxInFlightPerEndpoint</c> at a time, and sends each as its own task. An endpoint that hangs fills
/// only its own lane; the others go on claiming and sending.
/// </summary>
internal sealed partial class EndpointLane : IAsyncDisposable
{
    private readonly DeliveryWorker _worker;
    private readonly CancellationTokenSource _stop;
    private readonly Task _loop;
    private EndpointTarget _target;
    private RateLimiter? _limiter;
    private int _inFlight;

    // What the lane's send rate is learned from, to size its queue (DeliveryHandoff.CapacityFor).
    private int _finished;
    private int _sampledFinished;
    private long _sampledAt = Stopwatch.GetTimestamp();
    private double _rate;

    public EndpointLane(DeliveryWorker worker, EndpointTarget target, CancellationToken stopping)
    {
        _worker = worker;
        _target = target;
        _limiter = CreateLimiter(target.Endpoint.RateLimitPerSecond);
        _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        worker.Handoff.Open(target.Endpoint.Id, DeliveryHandoff.CapacityFor(0, worker.Settings.MaxInFlightPerEndpoint));
        _loop = Task.Run(() => RunAsync(_stop.Token));
    }

    public Guid EndpointId => _target.Endpoint.Id;

    public EndpointTarget Target => _target;

    /// <summary>Takes an endpoint's new settings (URL, headers, secrets, rate) for the sends that start from now on.</summary>
    public void Update(EndpointTarget target)
    {
        if (target.Endpoint.RateLimitPerSecond != _target.Endpoint.RateLimitPerSecond)
        {
            var old = _limiter;
            _limiter = CreateLimiter(target.Endpoint.RateLimitPerSecond);
            old?.Dispose();
        }

        _target = target;
    }

    public async ValueTask DisposeAsync()
    {
        _worker.Handoff.Close(EndpointId);
        _stop.Cancel();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    public static EndpointTarget TargetOf(WebhookEndpoint endpoint) => new(
        endpoint,
        new Uri(endpoint.Url),
        endpoint.Headers is { Length: > 0 } json
            ? [.. JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? []]
            : []);

    private async Task RunAsync(CancellationToken stop)
    {
        var failures = 0;
        var handoff = _worker.Handoff;
        var signal = _worker.Signal;
        // When the database is next looked at: at once (rows from before this lane started), then when told
        // (Notify), when the next known delivery falls due, and at least every poll interval (other replicas' rows,
        // claims that ran out).
        var lookAt = DateTime.MinValue;
        while (!stop.IsCancellationRequested)
        {
            var settings = _worker.Settings;
            var now = DateTime.UtcNow;
            var acquired = 0;
            try
            {
                if (signal.TakeDatabaseWork(EndpointId))
                {
                    lookAt = now;
                }

                SizeQueue(settings.MaxInFlightPerEndpoint);

                // Refill the queue from the database once less than a round of sends waits in it, claiming as many
                // as it has room for: a busy endpoint costs one claim per few rounds of sends.
                if (now >= lookAt && handoff.Waiting(EndpointId) < settings.MaxInFlightPerEndpoint
                    && handoff.ReserveFree(EndpointId) is var room and > 0)
                {
                    List<ClaimedDelivery> claimed;
                    try
                    {
                        claimed = await _worker.ClaimAsync(EndpointId, room, stop);
                    }
                    catch
                    {
                        handoff.Cancel(EndpointId, room);
                        throw;
                    }

                    handoff.Hand(claimed);
                    handoff.Cancel(EndpointId, room - claimed.Count);
                    failures = 0;
                    if (claimed.Count < room)
                    {
                        // Drained: look again when the next delivery falls due, or after the poll interval.
                        var due = await _worker.NextDueAsync(EndpointId, stop);
                        var next = DateTime.UtcNow + settings.PollInterval;
                        lookAt = due is { } d && d < next ? d : next;
                    }
                }

                var free = settings.MaxInFlightPerEndpoint - Volatile.Read(ref _inFlight);
                if (free > 0 && handoff.Waiting(EndpointId) is var waiting and > 0)
                {
                    acquired = await _worker.AcquireSlotsAsync(Math.Min(free, waiting), stop);
                    var taken = new List<ClaimedDelivery>(acquired);
                    // Half of the 10 s that a lease must exceed the timeout by: a delivery that waited here within 5 s
                    // of its claim is still sent, even under the shortest lease allowed.
                    var margin = settings.Timeout + TimeSpan.FromSeconds(5);
                    while (taken.Count < acquired && handoff.TryTake(EndpointId, out var delivery))
                    {
                        // Sent only if the attempt can be recorded before the claim runs out; else claimed again later.
                        if (delivery.LeaseUntil - DateTime.UtcNow >= margin)
                        {
                            taken.Add(delivery);
                        }
                    }

                    StartAll(taken);
                    _worker.ReleaseSlots(acquired - taken.Count);
                    acquired = 0;
                    continue;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                _worker.ReleaseSlots(acquired);
                break;
            }
            catch (Exception ex)
            {
                _worker.ReleaseSlots(acquired);
                failures++;
                _worker.ClaimFailed(EndpointId, failures, ex);
                lookAt = DateTime.UtcNow + TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * Math.Pow(2, Math.Min(failures, 8))));
            }

            var untilLook = lookAt - DateTime.UtcNow;
            var wait = untilLook <= TimeSpan.Zero ? settings.PollInterval : untilLook < settings.PollInterval ? untilLook : settings.PollInterval;
            await ((Task)signal.WaitAsync(EndpointId, wait, stop)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private void StartAll(List<ClaimedDelivery> deliveries)
    {
        foreach (var delivery in deliveries)
        {
            Interlocked.Increment(ref _inFlight);
            _worker.Start(this, delivery, _target);
        }
    }

    /// <summary>About once a second while the lane has work: its send rate, smoothed, sizes its queue.</summary>
    private void SizeQueue(int maxInFlight)
    {
        var elapsed = Stopwatch.GetElapsedTime(_sampledAt);
        if (elapsed < TimeSpan.FromSeconds(1))
        {
            return;
        }

        var finished = Volatile.Read(ref _finished);
        var sent = finished - _sampledFinished;
        _sampledAt = Stopwatch.GetTimestamp();
        _sampledFinished = finished;
        if (sent == 0 && Volatile.Read(ref _inFlight) == 0 && _worker.Handoff.Waiting(EndpointId) == 0)
        {
            return; // idle: keep what was learned
        }

        _rate = (_rate + sent / elapsed.TotalSeconds) / 2;
        _worker.Handoff.Resize(EndpointId, DeliveryHandoff.CapacityFor(_rate, maxInFlight));
    }

    /// <summary>Waits for the endpoint's rate limit, if it has one.</summary>
    public ValueTask WaitForRateAsync(CancellationToken cancellationToken) =>
        _limiter is { } limiter ? AcquireAsync(limiter, cancellationToken) : ValueTask.CompletedTask;

    public void SendFinished()
    {
        Interlocked.Decrement(ref _inFlight);
        Interlocked.Increment(ref _finished);
        _worker.Signal.Wake(EndpointId);
    }

    private static async ValueTask AcquireAsync(RateLimiter limiter, CancellationToken cancellationToken)
    {
        try
        {
            using var lease = await limiter.AcquireAsync(1, cancellationToken);
        }
        catch (ObjectDisposedException)
        {
            // The rate changed meanwhile; the new limiter applies to the next send.
        }
    }

    private static TokenBucketRateLimiter? CreateLimiter(int? perSecond) => perSecond is { } rate and > 0
        ? new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            TokenLimit = rate,
            TokensPerPeriod = rate,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        })
        : null;
}
