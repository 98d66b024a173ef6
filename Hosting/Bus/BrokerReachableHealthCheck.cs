using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Pipeline.Hosting.Bus;

/// <summary>
/// Whether the broker's port answers. MassTransit's own check follows its receive endpoints, and a host that only
/// publishes (Ingress) has none to tell it that the broker is gone; a TCP connect does.
/// </summary>
public sealed class BrokerReachableHealthCheck(IOptions<BusOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var uri = new Uri(options.Value.RabbitMq!);
        var port = BusOptions.PortOf(uri);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(2));
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(uri.Host, port, timeout.Token);
            return HealthCheckResult.Healthy($"{uri.Host}:{port} answers");
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"{uri.Host}:{port} does not answer: {ex.Message}");
        }
    }
}
