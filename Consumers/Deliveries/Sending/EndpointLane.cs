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

    public EndpointLane(DeliveryWorker worker, EndpointTarget target, CancellationToken stopping)
    {
        _worker = worker;
        _target = target;
        _limiter = CreateLimiter(target.Endpoint.RateLimitPerSecond);
        _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
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

    /// <summary>Stops claiming (the endpoint was disabled or deleted); sends already started finish and are recorded.</summary>
    public void StopClaiming() => _stop.Cancel();

    public async ValueTask DisposeAsync()
    {
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
        while (!stop.IsCancellationRequested)
        {
            var settings = _worker.Settings;
            var wait = settings.PollInterval;
            var acquired = 0;
            try
            {
                var inFlight = Volatile.Read(ref _inFlight);
                var free = settings.MaxInFlightPerEndpoint - inFlight;

                // Claim in batches: once half the slots are free (or none is busy), not for every slot that frees, so a
                // busy endpoint costs one claim per few sends. At least half stay busy meanwhile.
                if (free > 0 && (inFlight == 0 || free >= Math.Max(1, settings.MaxInFlightPerEndpoint / 2)))
                {
                    acquired = await _worker.AcquireSlotsAsync(free, stop);
                    var claimed = await _worker.ClaimAsync(EndpointId, acquired, stop);
                    foreach (var delivery in claimed)
                    {
                        Interlocked.Increment(ref _inFlight);
                        _worker.Start(this, delivery, _target);
                    }

                    _worker.ReleaseSlots(acquired - claimed.Count);
                    var asked = acquired;
                    acquired = 0;
                    failures = 0;
                    if (claimed.Count > 0 && claimed.Count == asked)
                    {
                        continue; // more may be due
                    }

                    if (await _worker.NextDueAsync(EndpointId, stop) is { } due)
                    {
                        var untilDue = due - DateTime.UtcNow;
                        wait = untilDue <= TimeSpan.Zero ? TimeSpan.FromMilliseconds(10) : untilDue < wait ? untilDue : wait;
                    }
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
                wait = TimeSpan.FromMilliseconds(Math.Min(30_000, 250 * Math.Pow(2, Math.Min(failures, 8))));
            }

            await ((Task)_worker.Signal.WaitAsync(EndpointId, wait, stop)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>Waits for the endpoint's rate limit, if it has one.</summary>
    public ValueTask WaitForRateAsync(CancellationToken cancellationToken) =>
        _limiter is { } limiter ? AcquireAsync(limiter, cancellationToken) : ValueTask.CompletedTask;

    public void SendFinished()
    {
        Interlocked.Decrement(ref _inFlight);
        _worker.Signal.Notify(EndpointId);
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
