using MassTransit;
using MassTransit.RabbitMqTransport;

namespace Pipeline.Hosting.Bus;

/// <summary>
/// Declares a consumer queue's delay queues and its <c>_error</c> queue each time the endpoint's channel opens,
/// before MassTransit declares the endpoint's own topology. Declaring is idempotent; arguments that differ from an
/// existing queue's fail with PRECONDITION_FAILED (see docs/retries.md). The error queue must exist before the
/// first message reaches the delivery limit, because RabbitMQ, not MassTransit, moves that one.
/// </summary>
public sealed class DeclarePipelineQueuesFilter(string queue, RedeliverySchedule schedule) : IFilter<ChannelContext>
{
    public async Task Send(ChannelContext context, IPipe<ChannelContext> next)
    {
        await context.QueueDeclare(PipelineQueues.ErrorQueue(queue), true, false, false, PipelineQueues.ErrorQueueArguments(),
            context.CancellationToken);
        foreach (var delay in schedule.Delays.Distinct())
        {
            await context.QueueDeclare(PipelineQueues.DelayQueue(queue, delay), true, false, false,
                PipelineQueues.DelayQueueArguments(queue, delay), context.CancellationToken);
        }

        await next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("pipelineDeclareQueues");
}
