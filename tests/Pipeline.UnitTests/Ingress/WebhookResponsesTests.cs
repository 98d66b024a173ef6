using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Pipeline.Ingress.Webhooks;

namespace Pipeline.UnitTests.Ingress;

public class WebhookResponsesTests
{
    [Fact]
    public async Task A_refusal_quoting_what_the_sender_sent_is_cut_in_the_answer()
    {
        var contentType = "text/" + new string('x', 30_000);
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        context.Response.Body = new MemoryStream();

        var result = WebhookResponses.Reject(NullLogger.Instance, "e2b", StatusCodes.Status415UnsupportedMediaType, "unsupported content type",
            $"Content-Type '{contentType}' is not accepted here.");
        await result.ExecuteAsync(context);

        context.Response.Body.Position = 0;
        var message = JsonDocument.Parse(context.Response.Body).RootElement.GetProperty("message").GetString()!;
        Assert.Equal(WebhookResponses.MaxDetailLength, message.Length);
        Assert.StartsWith("Content-Type 'text/xxx", message, StringComparison.Ordinal);
        Assert.EndsWith("x…", message, StringComparison.Ordinal);
        Assert.Equal(StatusCodes.Status415UnsupportedMediaType, context.Response.StatusCode);
    }
}
