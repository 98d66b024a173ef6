using System.Text.Json;
using System.Text.RegularExpressions;
using Pipeline.IntegrationTests.Infrastructure;

namespace Pipeline.IntegrationTests.Deliveries;

/// <summary>pipeline-ops endpoints … and deliveries … against a running Deliveries service.</summary>
[Collection(PipelineCollection.Name)]
public sealed class DeliveriesOpsTests(TestServices services)
{
    [Fact]
    public async Task Operators_register_test_list_show_and_recover_through_pipeline_ops_and_listen_verifies_what_arrives()
    {
        var adminKey = DeliveryPipelineTests.NewAdminKey();
        await using var pipeline = await PipelineTopology.StartAsync(services, DeliveryPipelineTests.Topology(adminKey));
        await using var receiver = new WebhookReceiver();
        var api = new DeliveriesClient(pipeline, adminKey);
        var environment = new Dictionary<string, string>
        {
            ["ADMIN_API_KEY"] = adminKey,
            ["PIPELINE_DELIVERIES_URL"] = pipeline.Consumers[ConsumerService.Deliveries].BaseAddress.ToString(),
        };
        async Task<string> Ops(params string[] args)
        {
            var (code, output, error) = await pipeline.RunOpsAsync(environment, args);
            Assert.True(code == 0, $"pipeline-ops {string.Join(' ', args)} exited with {code}: {error}{output}");
            return output;
        }

        var added = await Ops("endpoints", "add", receiver.Url, "--events", "sandbox.*,credits.exhausted", "--description", "ops test", "--header", "X-Tenant: acme");
        var id = Regex.Match(added, "^([0-9a-f-]{36})  enabled", RegexOptions.Multiline).Groups[1].Value;
        Assert.Matches("secret: whsec_[A-Za-z0-9+/=]{44}", added);
        Assert.Contains(id, await Ops("endpoints", "list"));
        Assert.Contains("\"X-Tenant\": \"(hidden)\"", await Ops("endpoints", "show", id));

        var tested = await Ops("endpoints", "test", id);
        Assert.Contains("delivered: HTTP 200", tested);
        var deliveryId = Regex.Match(tested, "delivery ([0-9a-f-]{36})").Groups[1].Value;
        Assert.Contains("webhook.test", await Ops("deliveries", "list", "--endpoint", id));
        var shown = JsonDocument.Parse(await Ops("deliveries", "show", deliveryId)).RootElement;
        Assert.Equal(200, shown.GetProperty("attemptLog")[0].GetProperty("statusCode").GetInt32());
        Assert.Contains("pending again", await Ops("deliveries", "resend", deliveryId));
        await receiver.WaitForAsync(2, pipeline.Diagnostics);

        Assert.Contains("disabled", await Ops("endpoints", "disable", id));
        var since = DateTime.UtcNow.AddMinutes(-1).ToString("o");
        await pipeline.PostE2bAsync(E2bEvents.V2("create", "sbx-ops-1", DateTime.UtcNow));
        await Eventually.WaitAsync(() => api.CountAsync("SELECT count(*) FROM webhook_deliveries WHERE \"Status\" = 'skipped'"), n => n == 1,
            TimeSpan.FromSeconds(60), "the skipped delivery", pipeline.Diagnostics);
        var refused = await pipeline.RunOpsAsync(environment, "deliveries", "recover", "--endpoint", id, "--since", since);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("is disabled", refused.Error);
        Assert.Contains("enabled", await Ops("endpoints", "enable", id));
        Assert.Contains("recovered 1 so far, 0 left", await Ops("deliveries", "recover", "--endpoint", id, "--since", since));
        var arrived = await receiver.WaitForAsync(3, pipeline.Diagnostics);
        Assert.Equal("sandbox.created", JsonDocument.Parse(arrived[2].Body).RootElement.GetProperty("event_type").GetString());
        Assert.Matches("secret: whsec_", await Ops("endpoints", "rotate", id));

        // listen: registers itself, verifies the signature of what arrives, removes itself.
        var port = FreePort.Next();
        var listen = pipeline.RunOpsAsync(environment, "endpoints", "listen", "--port", port.ToString(), "--events", "sandbox.*", "--count", "1");
        await Eventually.WaitAsync(() => api.CountAsync("SELECT count(*) FROM webhook_endpoints WHERE \"Description\" = 'pipeline-ops endpoints listen'"), n => n == 1,
            TimeSpan.FromSeconds(60), "the listener to register", pipeline.Diagnostics);
        await pipeline.PostE2bAsync(E2bEvents.V2("kill", "sbx-ops-1", DateTime.UtcNow));
        var (code, output, error) = await listen;
        Assert.True(code == 0, error + output);
        Assert.Contains("signature OK", output);
        Assert.Contains("sandbox.killed", output);
        Assert.Equal(0, await api.CountAsync("SELECT count(*) FROM webhook_endpoints WHERE \"Description\" = 'pipeline-ops endpoints listen'"));
    }
}
