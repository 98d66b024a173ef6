using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using MassTransit.Monitoring;
using Pipeline.Hosting.Telemetry;
using Pipeline.Ingress;
using YamlDotNet.RepresentationModel;

namespace Pipeline.UnitTests.Observability;

/// <summary>
/// The alert rules and the Grafana dashboard parse, have what an operator needs, and name only series that the
/// services really export (a renamed metric would otherwise leave a silent alert and an empty panel).
/// promtool's own checks and rule tests are in infra/prometheus/check.sh.
/// </summary>
public sealed partial class MonitoringFilesTests
{
    private static readonly string Root = FindRoot();
    private static readonly string AlertsPath = Path.Combine(Root, "infra", "prometheus", "alerts.yml");
    private static readonly string DashboardPath = Path.Combine(Root, "infra", "grafana", "pipeline-dashboard.json");

    [Fact]
    public void Alert_rules_parse_and_each_has_an_expression_a_severity_and_a_summary()
    {
        var rules = AlertRules();

        Assert.Equal(
            ["PipelineConsumerFaults", "PipelineDeadLettersGrowing", "PipelineDeadLettersUnknown", "PipelineOutboxBacklogOld",
             "PipelineOutboxPublishFailures", "PipelineServiceDown", "PipelineWebhookAcceptSlow", "PipelineWebhookDeliveriesFailing",
             "PipelineWebhookDeliverySlow", "PipelineWebhookEndpointFailing", "PipelineWebhookLedgerUnbalanced", "PipelineWebhookQueueBacklog",
             "PipelineWebhookRejectionSpike"],
            rules.Select(r => Scalar(r, "alert")).Order(StringComparer.Ordinal));
        foreach (var rule in rules)
        {
            var name = Scalar(rule, "alert");
            Assert.False(string.IsNullOrWhiteSpace(Scalar(rule, "expr")), name);
            Assert.Contains(Scalar((YamlMappingNode)rule.Children["labels"], "severity"), new[] { "critical", "warning" });
            var annotations = (YamlMappingNode)rule.Children["annotations"];
            Assert.False(string.IsNullOrWhiteSpace(Scalar(annotations, "summary")), name);
            Assert.False(string.IsNullOrWhiteSpace(Scalar(annotations, "description")), name);
        }

        var backlog = rules.Single(r => Scalar(r, "alert") == "PipelineOutboxBacklogOld");
        Assert.Contains("pipeline_outbox_oldest_pending_age_seconds", Scalar(backlog, "expr"));
        Assert.Contains("> 60", Scalar(backlog, "expr"));
        Assert.Equal("5m", Scalar(backlog, "for"));

        // The outbound ledger is checked: an endpoint whose deliveries do not add up is an incident.
        var ledger = rules.Single(r => Scalar(r, "alert") == "PipelineWebhookLedgerUnbalanced");
        Assert.Equal("max(webhook_ledger_unbalanced_endpoints) > 0", Scalar(ledger, "expr"));
        Assert.Equal("critical", Scalar((YamlMappingNode)ledger.Children["labels"], "severity"));
    }

    [Fact]
    public void The_dashboard_is_valid_grafana_json_with_a_query_in_every_panel()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(DashboardPath));
        var root = dashboard.RootElement;
        Assert.Equal("pipeline-overview", root.GetProperty("uid").GetString());
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("title").GetString()));
        Assert.Contains(root.GetProperty("templating").GetProperty("list").EnumerateArray(),
            v => v.GetProperty("type").GetString() == "datasource" && v.GetProperty("query").GetString() == "prometheus");

        var panels = root.GetProperty("panels").EnumerateArray().ToList();
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        foreach (var panel in panels)
        {
            var grid = panel.GetProperty("gridPos");
            Assert.InRange(grid.GetProperty("x").GetInt32() + grid.GetProperty("w").GetInt32(), 1, 24);
            if (panel.GetProperty("type").GetString() == "row")
            {
                continue;
            }

            var targets = panel.GetProperty("targets").EnumerateArray().ToList();
            Assert.NotEmpty(targets);
            Assert.All(targets, t => Assert.False(string.IsNullOrWhiteSpace(t.GetProperty("expr").GetString()), panel.GetProperty("title").GetString()));
            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
        }

        var titles = panels.Select(p => p.GetProperty("title").GetString()).ToList();
        foreach (var wanted in new[] { "Webhooks accepted per provider", "Webhooks rejected per provider and reason", "Outbox pending rows",
                     "Publish latency (publish to broker confirm)", "Dead letters per queue", "Consumer throughput", "Credit deductions",
                     "Active sandboxes", "Active rooms and participants", "Webhook deliveries by status", "Webhook delivery attempts by outcome",
                     "Webhook delivery duration", "Webhook queue and endpoints", "Webhook ledger" })
        {
            Assert.Contains(wanted, titles);
        }
    }

    [Fact]
    public void Every_pipeline_series_in_the_alerts_and_the_dashboard_is_one_the_services_define()
    {
        var defined = DefinedPipelineMetrics();
        Assert.Contains("pipeline_outbox_oldest_pending_age_seconds", defined);
        Assert.Contains("pipeline_dead_letters", defined);
        Assert.Contains("webhook_ledger_unbalanced_endpoints", defined);

        foreach (var path in new[] { AlertsPath, DashboardPath })
        {
            var text = File.ReadAllText(path);
            var referenced = PipelineSeries().Matches(text).Concat(WebhookSeries().Matches(text)).Select(m => m.Value).Distinct().ToList();
            Assert.Contains(referenced, s => s.StartsWith("webhook_", StringComparison.Ordinal));
            Assert.NotEmpty(referenced);
            foreach (var series in referenced)
            {
                Assert.True(defined.Contains(WithoutHistogramSuffix(series)), $"{Path.GetFileName(path)} uses {series}, which no service defines");
            }
        }
    }

    [Fact]
    public void Every_masstransit_series_in_the_alerts_and_the_dashboard_is_one_masstransit_8_exports()
    {
        // prometheus-net names a Meter instrument <meter>_<instrument> with dots as underscores.
        var options = new InstrumentationOptions();
        new ConfigureDefaultInstrumentationOptions().Configure(options);
        var names = typeof(InstrumentationOptions).GetProperties()
            .Where(p => p.PropertyType == typeof(string) && p.GetCustomAttribute<ObsoleteAttribute>() is null)
            .Select(p => (string?)p.GetValue(options))
            .OfType<string>()
            .Where(v => v.StartsWith("messaging.masstransit.", StringComparison.Ordinal))
            .Select(v => v.Replace('.', '_'))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Contains("messaging_masstransit_consume", names);
        Assert.Contains("messaging_masstransit_consumer_type", names);

        foreach (var path in new[] { AlertsPath, DashboardPath })
        {
            var text = File.ReadAllText(path);
            foreach (var series in MassTransitSeries().Matches(text).Select(m => m.Value).Distinct())
            {
                Assert.True(names.Contains(WithoutHistogramSuffix(series["masstransit_".Length..])), $"{Path.GetFileName(path)} uses {series}");
            }

            foreach (var label in MassTransitLabel().Matches(text).Select(m => m.Value).Distinct())
            {
                Assert.True(names.Contains(label), $"{Path.GetFileName(path)} uses the label {label}");
            }
        }
    }

    private static List<YamlMappingNode> AlertRules()
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(AlertsPath))
        {
            yaml.Load(reader);
        }

        var groups = (YamlSequenceNode)((YamlMappingNode)yaml.Documents.Single().RootNode).Children["groups"];
        return groups.Children.Cast<YamlMappingNode>()
            .SelectMany(g => ((YamlSequenceNode)g.Children["rules"]).Children.Cast<YamlMappingNode>())
            .ToList();
    }

    private static string Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlScalarNode)value).Value ?? "" : "";

    /// <summary>The names of every prometheus-net collector declared as a static field of the services' assemblies.</summary>
    private static HashSet<string> DefinedPipelineMetrics() =>
        new[]
            {
                typeof(PipelineMetrics).Assembly, typeof(IngressMetrics).Assembly, typeof(Consumers.Sandboxes.SandboxesExtensions).Assembly,
                typeof(Consumers.Rooms.RoomsExtensions).Assembly, typeof(Consumers.Credits.CreditsExtensions).Assembly,
                typeof(Consumers.Deliveries.DeliveriesExtensions).Assembly,
            }
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Where(f => typeof(Prometheus.Collector).IsAssignableFrom(f.FieldType))
            .Select(f => ((Prometheus.Collector)f.GetValue(null)!).Name)
            .ToHashSet(StringComparer.Ordinal);

    private static string WithoutHistogramSuffix(string series) =>
        HistogramSuffix().Replace(series, "");

    [GeneratedRegex(@"\bpipeline_[a-z_]+[a-z]")]
    private static partial Regex PipelineSeries();

    // Outbound webhook series keep the seed's names (webhook_deliveries_total, …).
    [GeneratedRegex(@"\bwebhook_(deliveries|delivery|queue|endpoints|ledger)[a-z_]*[a-z]")]
    private static partial Regex WebhookSeries();

    [GeneratedRegex(@"\bmasstransit_messaging_masstransit_[a-z_]+[a-z]")]
    private static partial Regex MassTransitSeries();

    [GeneratedRegex(@"(?<![a-z_])messaging_masstransit_[a-z_]+[a-z](?=\s*[,)=!~}])")]
    private static partial Regex MassTransitLabel();

    [GeneratedRegex("_(bucket|sum|count)$")]
    private static partial Regex HistogramSuffix();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Pipeline.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Pipeline.sln not found above " + AppContext.BaseDirectory);
    }
}
