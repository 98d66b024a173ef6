using MassTransit;
using MassTransit.Configuration;
using MassTransit.Monitoring;
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
        builder.Services.AddSingleton<EndpointPolicy>();
        var options = builder.Configuration.GetSection(BusOptions.Section).Get<BusOptions>() ?? new BusOptions();

        builder.Services.AddMassTransit(x =>
        {
            x.SetKebabCaseEndpointNameFormatter();
            // MassTransit 8.5 would otherwise post a usage report about this deployment to masstransit.io.
            x.DisableUsageTelemetry();
            // MessageId and ReceiptId on every line logged while consuming; on the consumer endpoints (and their
            // isolation endpoints below), not bus-wide.
            x.AddConfigureEndpointsCallback((context, _, endpoint) => endpoint.UseConsumeFilter(typeof(MessageLogScopeFilter<>), context));
            addConsumers?.Invoke(x);
            if (acceptsWithoutBroker)
            {
                x.ConfigureHealthCheckOptions(h => h.MinimalFailureStatus = HealthStatus.Degraded);
            }

            if (options.Transport == BusTransport.InMemory)
            {
                x.UsingInMemory((context, cfg) =>
                {
                    // As many messages at once as a RabbitMQ consumer has in hand (the default is one per core).
                    cfg.ConcurrentMessageLimit = context.GetRequiredService<IOptions<BusOptions>>().Value.PrefetchCount;

                    // In-memory retries only: delay queues and isolation are RabbitMQ's.
                    cfg.ConfigureEndpoints(context);
                });
                return;
            }

            x.UsingRabbitMq((context, cfg) =>
            {
                var bus = context.GetRequiredService<IOptions<BusOptions>>().Value;
                var uri = new Uri(bus.RabbitMq!);
                var (user, password) = ParseUserInfo(uri);
                var vhost = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
                cfg.Host(uri.Host, (ushort)BusOptions.PortOf(uri), string.IsNullOrEmpty(vhost) ? "/" : vhost, h =>
                {
                    h.Username(user);
                    h.Password(password);
                    if (uri.Scheme == "amqps")
                    {
                        h.UseSsl(s => s.Protocol = System.Security.Authentication.SslProtocols.Tls12);
                    }
                });
                cfg.PrefetchCount = bus.PrefetchCount;
                ConfigureDeadLetterQueues(cfg);

                cfg.ConfigureEndpoints(context);
                ConfigureIsolationEndpoints(cfg, context, context.GetRequiredService<EndpointPolicy>());
            });
        });

        if (options.Transport == BusTransport.RabbitMq)
        {
            builder.Services.AddSingleton<ConsumerQueueCheck>();
            builder.Services.AddHealthChecks().AddCheck<BrokerReachableHealthCheck>("broker",
                acceptsWithoutBroker ? HealthStatus.Degraded : HealthStatus.Unhealthy, [ServiceDefaults.ReadyTag]);
        }

        // MassTransit's Meter ("MassTransit": receive/consume/retry/fault counts and durations) reaches /metrics through
        // prometheus-net as masstransit_messaging_masstransit_* series, labelled with this service's name.
        builder.Services.PostConfigure<InstrumentationOptions>(o => o.ServiceName = builder.Environment.ApplicationName);
        builder.Services.Configure<MassTransitHostOptions>(o =>
        {
            o.WaitUntilStarted = false;
            o.StopTimeout = TimeSpan.FromSeconds(30);
        });
        return builder;
    }

    /// <summary>
    /// MassTransit names a receive queue's <c>_error</c> and <c>_skipped</c> queues after it and copies its arguments.
    /// An isolation queue shares its consumer queue's dead letters, and none of the consumer queue's delivery limit or
    /// dead-letter target may reach a dead-letter queue: browsing there would count deliveries and drop or cycle them.
    /// </summary>
    private static void ConfigureDeadLetterQueues(IRabbitMqBusFactoryConfigurator cfg)
    {
        cfg.SendTopology.ErrorQueueNameFormatter = DeadLetterQueueNames.Instance;
        cfg.SendTopology.DeadLetterQueueNameFormatter = DeadLetterQueueNames.Instance;
        cfg.SendTopology.ConfigureErrorSettings = RemoveCopiedArguments;
        cfg.SendTopology.ConfigureDeadLetterSettings = RemoveCopiedArguments;

        static void RemoveCopiedArguments(IRabbitMqQueueBindingConfigurator queue)
        {
            foreach (var argument in PipelineQueues.ArgumentsErrorQueuesMustNotCopy)
            {
                queue.SetQueueArgument(argument, null);
            }
        }
    }

    /// <summary>
    /// For each consumer queue configured with <see cref="ConsumerPolicies.UsePipelineDefaults"/>: a second endpoint on
    /// <c>&lt;queue&gt;_isolated</c> with the same consumers, one message at a time, bound to no exchange (only
    /// <see cref="CrashIsolationFilter"/> sends to it).
    /// </summary>
    private static void ConfigureIsolationEndpoints(IRabbitMqBusFactoryConfigurator cfg, IBusRegistrationContext context, EndpointPolicy policy)
    {
        var consumersByQueue = context.GetServices<IConsumerRegistration>()
            .GroupBy(r => r.GetDefinition(context).GetEndpointName(context.EndpointNameFormatter))
            .ToDictionary(g => g.Key, g => g.ToList());
        foreach (var queue in policy.ConsumerQueues.Order(StringComparer.Ordinal).ToList())
        {
            if (!consumersByQueue.TryGetValue(queue, out var consumers))
            {
                throw new InvalidOperationException($"No consumer registration found for the queue {queue}: its isolation endpoint cannot be configured.");
            }

            cfg.ReceiveEndpoint(PipelineQueues.IsolationQueue(queue), e =>
            {
                e.ConfigureConsumeTopology = false;
                e.PrefetchCount = 1;
                e.ConcurrentMessageLimit = 1;
                e.UseConsumeFilter(typeof(MessageLogScopeFilter<>), context);
                foreach (var consumer in consumers)
                {
                    consumer.Configure(e, context);
                }
            });
        }
    }

    private sealed class DeadLetterQueueNames : IErrorQueueNameFormatter, IDeadLetterQueueNameFormatter
    {
        public static readonly DeadLetterQueueNames Instance = new();

        public string FormatErrorQueueName(string queueName) => PipelineQueues.ErrorQueue(queueName);

        public string FormatDeadLetterQueueName(string queueName) => PipelineQueues.ConsumerQueueOf(queueName) + "_skipped";
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
