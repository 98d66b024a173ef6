using MassTransit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Pipeline.Hosting.Bus;

public static class BusRegistration
{
    /// <summary>
    /// Adds MassTransit on the configured transport with the given consumers. The host starts even while the
    /// broker is unreachable: Ingress keeps accepting into its outbox and the bus connects when it can.
    /// </summary>
    /// <param name="acceptsWithoutBroker">
    /// For Ingress: a broker outage makes /health/ready report Degraded (still 200) instead of Unhealthy, so a
    /// load balancer keeps sending webhooks to it while the outbox holds them.
    /// </param>
    public static WebApplicationBuilder AddPipelineBus(
        this WebApplicationBuilder builder, Action<IBusRegistrationConfigurator>? addConsumers = null, bool acceptsWithoutBroker = false)
    {
        builder.Services.AddOptions<BusOptions>().BindConfiguration(BusOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var options = builder.Configuration.GetSection(BusOptions.Section).Get<BusOptions>() ?? new BusOptions();

        builder.Services.AddMassTransit(x =>
        {
            x.SetKebabCaseEndpointNameFormatter();
            addConsumers?.Invoke(x);
            if (acceptsWithoutBroker)
            {
                x.ConfigureHealthCheckOptions(h => h.MinimalFailureStatus = HealthStatus.Degraded);
            }

            if (options.Transport == BusTransport.InMemory)
            {
                x.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
                return;
            }

            x.UsingRabbitMq((context, cfg) =>
            {
                var bus = context.GetRequiredService<IOptions<BusOptions>>().Value;
                var uri = new Uri(bus.RabbitMq!);
                var (user, password) = ParseUserInfo(uri);
                var vhost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
                cfg.Host(uri.Host, (ushort)(uri.IsDefaultPort ? 5672 : uri.Port), string.IsNullOrEmpty(vhost) ? "/" : vhost, h =>
                {
                    h.Username(user);
                    h.Password(password);
                    if (uri.Scheme == "amqps")
                    {
                        h.UseSsl(s => s.Protocol = System.Security.Authentication.SslProtocols.Tls12);
                    }
                });
                cfg.PrefetchCount = bus.PrefetchCount;
                cfg.ConfigureEndpoints(context);
            });
        });

        if (options.Transport == BusTransport.RabbitMq)
        {
            builder.Services.AddHealthChecks().AddCheck<BrokerReachableHealthCheck>("broker",
                acceptsWithoutBroker ? HealthStatus.Degraded : HealthStatus.Unhealthy, [ServiceDefaults.ReadyTag]);
        }

        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = false;
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });
        return builder;
    }

    private static (string User, string Password) ParseUserInfo(Uri uri)
    {
        if (string.IsNullOrEmpty(uri.UserInfo))
        {
            return ("guest", "guest");
        }

        var parts = uri.UserInfo.Split(':', 2);
        return (Uri.UnescapeDataString(parts[0]), parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "");
    }
}
