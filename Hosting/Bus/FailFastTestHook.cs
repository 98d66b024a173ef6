using MassTransit;

namespace Pipeline.Hosting.Bus;

/// <summary>
/// TEST ONLY, off unless the environment variable is set: ends the process with <see cref="Environment.FailFast(string)"/>
/// when it consumes a message whose body contains the variable's value, as an out-of-memory kill or a native crash
/// would. The integration tests use it to prove that such a message ends in the dead letters without taking others along.
/// </summary>
internal sealed class FailFastTestHook(string marker) : IFilter<ConsumeContext>
{
    public const string Variable = "PIPELINE_TEST_FAILFAST_WHEN_BODY_CONTAINS";

    public static void ApplyIfEnabled(IReceiveEndpointConfigurator endpoint)
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } marker)
        {
            endpoint.UseFilter(new FailFastTestHook(marker));
        }
    }

    public Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        if (context.ReceiveContext.Body.GetString().Contains(marker, StringComparison.Ordinal))
        {
            Environment.FailFast($"{Variable}: crashing on message {context.MessageId} as the test asked.");
        }

        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("pipelineFailFastTestHook");
}
