using System.Security.Cryptography;
using System.Text;
using Pipeline.Ingress.Providers.E2b;
using Pipeline.Messages.Sandboxes;

namespace Pipeline.UnitTests.Providers.E2b;

public class E2bEventNormalizerTests
{
    private static readonly Guid ReceiptId = Guid.Parse("6a1f1f5e-0000-4000-8000-000000000001");

    private const string SeedBody =
        """{"eventCategory":"lifecycle","eventLabel":"kill","sandboxId":"iabc123def456ghi789jk","sandboxTeamId":"460355b3-4f64-48f9-9a16-4442817f79f5","timestamp":"2026-01-29T10:00:00.000Z"}""";

    private const string EquivalentV2Body =
        """{"id":"0b6f2a53-7f1e-4d55-9a7e-000000000002","version":"v2","type":"sandbox.lifecycle.killed","timestamp":"2026-01-29T10:00:00Z","event_category":"lifecycle","event_label":"kill","sandbox_id":"iabc123def456ghi789jk","sandbox_team_id":"460355b3-4f64-48f9-9a16-4442817f79f5"}""";

    private const string V1Body =
        """{"version":"v1","id":"5d2c0c1e-1111-4a4a-8b8b-000000000003","type":"sandbox.lifecycle.paused","eventCategory":"lifecycle","eventLabel":"pause","eventData":{"sandbox_metadata":{"user":"42","plan":"pro"},"execution":{"startedAt":"2026-01-29T09:00:00Z","vcpuCount":4,"memoryMb":1024,"executionTime":3600000}},"sandboxBuildId":"build-1","sandboxExecutionId":"exec-1","sandboxId":"sbx-v1","sandboxTeamId":"team-1","sandboxTemplateId":"tmpl-1","timestamp":"2026-01-29T10:00:00Z"}""";

    private static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);

    private static byte[] VectorBody() =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Vectors", "e2b-v2-killed.json"));

    private static SandboxLifecycleEventV1 NormalizeOk(byte[] body)
    {
        var result = E2bEventNormalizer.Normalize(body, ReceiptId);
        Assert.True(result.IsValid, result.Error);
        Assert.Null(result.Error);
        return result.Value!;
    }

    private static string ExpectedHashKey(byte[] body) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body));

    [Fact]
    public void V2_vector_normalizes_every_field()
    {
        var result = E2bEventNormalizer.Normalize(VectorBody(), ReceiptId);

        Assert.True(result.IsValid, result.Error);
        var message = result.Value!;
        Assert.Equal("cf90f3ef-c69c-4b3e-9d1a-000000000001", message.EventId);
        Assert.Equal("cf90f3ef-c69c-4b3e-9d1a-000000000001", result.DedupKey);
        Assert.Equal("iabc123def456ghi789jk", message.SandboxId);
        Assert.Equal(SandboxLabels.Kill, message.Label);
        Assert.Equal("sandbox.lifecycle.killed", message.EventType);
        Assert.Equal(new DateTimeOffset(2026, 1, 29, 10, 0, 0, TimeSpan.Zero), message.OccurredAt);
        Assert.Equal(TimeSpan.Zero, message.OccurredAt.Offset);
        Assert.Equal("460355b3-4f64-48f9-9a16-4442817f79f5", message.TeamId);
        Assert.Equal("rki5dems9wqfm4r03t7g", message.TemplateId);
        Assert.Equal("a979a14b-bdcc-49e6-bc04-1189fc9fe7c2", message.BuildId);
        Assert.Equal("1dae9e1c-9957-4ce7-a236-a99d5779aadf", message.ExecutionId);
        Assert.Equal(new Dictionary<string, string> { ["user"] = "42" }, message.Metadata);
        Assert.NotNull(message.Execution);
        Assert.Equal(100000L, message.Execution.ExecutionTimeMs);
        Assert.Equal(2, message.Execution.VcpuCount);
        Assert.Equal(512, message.Execution.MemoryMb);
        Assert.Equal(new DateTimeOffset(2026, 1, 29, 9, 58, 20, TimeSpan.Zero), message.Execution.StartedAt);
        Assert.Equal(ReceiptId, message.ReceiptId);
        Assert.Equal("v2", message.SourceFormat);
    }

    [Fact]
    public void Both_formats_normalize_to_the_same_message()
    {
        var seed = NormalizeOk(Bytes(SeedBody));
        var v2 = NormalizeOk(Bytes(EquivalentV2Body));

        Assert.Equal(v2.SandboxId, seed.SandboxId);
        Assert.Equal(v2.Label, seed.Label);
        Assert.Equal(v2.EventType, seed.EventType);
        Assert.Equal(v2.OccurredAt, seed.OccurredAt);
        Assert.Equal(v2.TeamId, seed.TeamId);
        Assert.Equal("seed", seed.SourceFormat);
        Assert.Equal("v2", v2.SourceFormat);
    }

    [Fact]
    public void Seed_body_derives_the_type_from_the_label()
    {
        var message = NormalizeOk(Bytes(SeedBody));

        Assert.Equal("kill", message.Label);
        Assert.Equal("sandbox.lifecycle.killed", message.EventType);
        Assert.Equal("iabc123def456ghi789jk", message.SandboxId);
        Assert.Equal("460355b3-4f64-48f9-9a16-4442817f79f5", message.TeamId);
        Assert.Equal(new DateTimeOffset(2026, 1, 29, 10, 0, 0, TimeSpan.Zero), message.OccurredAt);
        Assert.Null(message.Execution);
        Assert.Null(message.Metadata);
        Assert.Null(message.TemplateId);
    }

    [Fact]
    public void V1_camel_case_body_normalizes()
    {
        var result = E2bEventNormalizer.Normalize(Bytes(V1Body), ReceiptId);

        Assert.True(result.IsValid, result.Error);
        var message = result.Value!;
        Assert.Equal("v1", message.SourceFormat);
        Assert.Equal("5d2c0c1e-1111-4a4a-8b8b-000000000003", message.EventId);
        Assert.Equal(message.EventId, result.DedupKey);
        Assert.Equal("sbx-v1", message.SandboxId);
        Assert.Equal(SandboxLabels.Pause, message.Label);
        Assert.Equal("sandbox.lifecycle.paused", message.EventType);
        Assert.Equal("team-1", message.TeamId);
        Assert.Equal("tmpl-1", message.TemplateId);
        Assert.Equal("build-1", message.BuildId);
        Assert.Equal("exec-1", message.ExecutionId);
        Assert.Equal("42", message.Metadata!["user"]);
        Assert.Equal("pro", message.Metadata["plan"]);
        Assert.Equal(new DateTimeOffset(2026, 1, 29, 9, 0, 0, TimeSpan.Zero), message.Execution!.StartedAt);
        Assert.Equal(4, message.Execution.VcpuCount);
        Assert.Equal(1024, message.Execution.MemoryMb);
        Assert.Equal(3600000L, message.Execution.ExecutionTimeMs);
    }

    [Fact]
    public void V1_with_camel_case_sandbox_metadata_key_and_snake_case_execution_keys()
    {
        var body = """{"id":"e1","type":"sandbox.lifecycle.killed","eventData":{"sandboxMetadata":{"k":"v"},"execution":{"started_at":"2026-01-29T09:00:00Z","vcpu_count":1,"memory_mb":256,"execution_time":5}},"sandboxId":"s1","timestamp":"2026-01-29T10:00:00Z"}""";

        var message = NormalizeOk(Bytes(body));

        Assert.Equal("v1", message.SourceFormat);
        Assert.Equal("kill", message.Label);
        Assert.Equal("v", message.Metadata!["k"]);
        Assert.Equal(1, message.Execution!.VcpuCount);
        Assert.Equal(256, message.Execution.MemoryMb);
        Assert.Equal(5L, message.Execution.ExecutionTimeMs);
    }

    [Fact]
    public void Version_v2_with_camel_case_keys_is_v2()
    {
        // E2B's docs showed this mix for a while: "version":"v2" with camelCase keys.
        var body = """{"version":"v2","id":"e2","type":"sandbox.lifecycle.created","eventLabel":"create","sandboxId":"s2","sandboxTeamId":"t2","timestamp":"2026-01-29T10:00:00Z"}""";

        var message = NormalizeOk(Bytes(body));

        Assert.Equal("v2", message.SourceFormat);
        Assert.Equal("s2", message.SandboxId);
        Assert.Equal("t2", message.TeamId);
        Assert.Equal("create", message.Label);
    }

    [Fact]
    public void Snake_case_keys_without_version_are_v2()
    {
        var body = """{"event_label":"resume","sandbox_id":"s3","timestamp":"2026-01-29T10:00:00Z"}""";

        var message = NormalizeOk(Bytes(body));

        Assert.Equal("v2", message.SourceFormat);
        Assert.Equal("sandbox.lifecycle.resumed", message.EventType);
    }

    [Fact]
    public void Body_without_id_is_keyed_by_the_hash_of_its_bytes()
    {
        var body = Bytes(SeedBody);
        var same = Bytes(SeedBody);
        var oneByteDifferent = Bytes(SeedBody.Replace("\"kill\"", "\"kilL\"", StringComparison.Ordinal));
        Assert.Equal(body.Length, oneByteDifferent.Length);

        var first = E2bEventNormalizer.Normalize(body, ReceiptId);
        var second = E2bEventNormalizer.Normalize(same, Guid.NewGuid());
        var different = E2bEventNormalizer.Normalize(oneByteDifferent, ReceiptId);

        Assert.Equal(ExpectedHashKey(body), first.DedupKey);
        Assert.Matches("^sha256:[0-9a-f]{64}$", first.DedupKey);
        Assert.Equal(first.DedupKey, first.Value!.EventId);
        Assert.Equal(first.DedupKey, second.DedupKey);
        Assert.True(different.IsValid, different.Error);
        Assert.NotEqual(first.DedupKey, different.DedupKey);
    }

    [Fact]
    public void Empty_id_falls_back_to_the_body_hash()
    {
        var body = Bytes("""{"id":"","type":"sandbox.lifecycle.killed","sandboxId":"s","timestamp":"2026-01-29T10:00:00Z"}""");

        var result = E2bEventNormalizer.Normalize(body, ReceiptId);

        Assert.Equal(ExpectedHashKey(body), result.DedupKey);
    }

    [Fact]
    public void Unknown_type_passes_through()
    {
        var body = """{"id":"e4","version":"v2","type":"sandbox.lifecycle.snapshotted","timestamp":"2026-01-29T10:00:00Z","sandbox_id":"s4"}""";

        var message = NormalizeOk(Bytes(body));

        Assert.Equal("sandbox.lifecycle.snapshotted", message.EventType);
        Assert.Equal("snapshotted", message.Label);
    }

    [Fact]
    public void Unknown_label_passes_through()
    {
        var body = """{"eventLabel":"checkpoint","sandboxId":"s5","timestamp":"2026-01-29T10:00:00Z"}""";

        var message = NormalizeOk(Bytes(body));

        Assert.Equal("checkpoint", message.Label);
        Assert.Equal("sandbox.lifecycle.checkpoint", message.EventType);
    }

    [Theory]
    [InlineData("sandbox.lifecycle.created", "create")]
    [InlineData("sandbox.lifecycle.killed", "kill")]
    [InlineData("sandbox.lifecycle.paused", "pause")]
    [InlineData("sandbox.lifecycle.resumed", "resume")]
    [InlineData("sandbox.lifecycle.updated", "update")]
    public void Label_is_derived_from_the_type_when_absent(string type, string label)
    {
        var body = $$"""{"id":"e","type":"{{type}}","sandbox_id":"s","timestamp":"2026-01-29T10:00:00Z"}""";

        var message = NormalizeOk(Bytes(body));

        Assert.Equal(label, message.Label);
        Assert.Equal(type, message.EventType);
    }

    [Theory]
    [InlineData("2026-01-29T10:00:00", "2026-01-29T10:00:00+00:00")] // no offset: UTC
    [InlineData("2026-01-29T12:00:00+02:00", "2026-01-29T10:00:00+00:00")]
    [InlineData("2026-01-29T10:00:00.123456789Z", "2026-01-29T10:00:00.1234567+00:00")] // Go's RFC 3339 nano
    public void Timestamps_are_iso_8601_and_utc(string timestamp, string expected)
    {
        var body = $$"""{"eventLabel":"kill","sandboxId":"s","timestamp":"{{timestamp}}"}""";

        var message = NormalizeOk(Bytes(body));

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), message.OccurredAt);
        Assert.Equal(TimeSpan.Zero, message.OccurredAt.Offset);
    }

    [Fact]
    public void Non_string_metadata_values_are_kept_as_raw_json()
    {
        var body = """{"id":"e","version":"v2","type":"sandbox.lifecycle.created","timestamp":"2026-01-29T10:00:00Z","sandbox_id":"s","event_data":{"sandbox_metadata":{"n":42,"b":true,"o":{"a":[1,2]},"z":null}}}""";

        var message = NormalizeOk(Bytes(body));

        Assert.Equal("42", message.Metadata!["n"]);
        Assert.Equal("true", message.Metadata["b"]);
        Assert.Equal("""{"a":[1,2]}""", message.Metadata["o"]);
        Assert.Equal("null", message.Metadata["z"]);
    }

    [Fact]
    public void Execution_numbers_may_be_absent_or_strings()
    {
        var body = """{"id":"e","version":"v2","type":"sandbox.lifecycle.paused","timestamp":"2026-01-29T10:00:00Z","sandbox_id":"s","event_data":{"execution":{"vcpu_count":"2","execution_time":1500.4}}}""";

        var message = NormalizeOk(Bytes(body));

        Assert.Equal(2, message.Execution!.VcpuCount);
        Assert.Null(message.Execution.MemoryMb);
        Assert.Null(message.Execution.StartedAt);
        Assert.Equal(1500L, message.Execution.ExecutionTimeMs);
    }

    [Fact]
    public void Null_optional_fields_are_absent()
    {
        var body = """{"id":"e","version":"v2","type":"sandbox.lifecycle.killed","timestamp":"2026-01-29T10:00:00Z","sandbox_id":"s","sandbox_team_id":null,"event_data":null}""";

        var message = NormalizeOk(Bytes(body));

        Assert.Null(message.TeamId);
        Assert.Null(message.Execution);
    }

    [Fact]
    public void Byte_order_mark_is_tolerated()
    {
        var body = Encoding.UTF8.GetPreamble().Concat(Bytes(SeedBody)).ToArray();

        var result = E2bEventNormalizer.Normalize(body, ReceiptId);

        Assert.True(result.IsValid, result.Error);
        Assert.Equal(ExpectedHashKey(body), result.DedupKey);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("not json")]
    [InlineData("{\"sandboxId\":")]
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\"} trailing")]
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",}")]
    [InlineData("[]")]
    [InlineData("\"a string\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("{\"eventLabel\":\"kill\",\"timestamp\":\"2026-01-29T10:00:00Z\"}")] // no sandbox id
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"\",\"timestamp\":\"2026-01-29T10:00:00Z\"}")]
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":null,\"timestamp\":\"2026-01-29T10:00:00Z\"}")]
    [InlineData("{\"sandboxId\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\"}")] // neither label nor type
    [InlineData("{\"eventLabel\":\"\",\"type\":\"\",\"sandboxId\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\"}")]
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"s\"}")] // no timestamp
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"s\",\"timestamp\":\"yesterday\"}")]
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"s\",\"timestamp\":\"01/29/2026 10:00\"}")]
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"s\",\"timestamp\":1769680800}")]
    [InlineData("{\"version\":\"v2\",\"type\":\"sandbox.lifecycle.killed\",\"sandbox_id\":42,\"timestamp\":\"2026-01-29T10:00:00Z\"}")]
    [InlineData("{\"id\":7,\"type\":\"sandbox.lifecycle.killed\",\"sandboxId\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\"}")]
    [InlineData("{\"type\":[\"sandbox.lifecycle.killed\"],\"sandboxId\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\"}")]
    [InlineData("{\"event_label\":{},\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\"}")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"sandbox_team_id\":1,\"timestamp\":\"2026-01-29T10:00:00Z\"}")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":[]}")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"sandbox_metadata\":\"x\"}}")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":5}}")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":{\"vcpu_count\":\"two\"}}}")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":{\"vcpu_count\":2.5}}}")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":{\"memory_mb\":99999999999}}}")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":{\"execution_time\":-1}}}")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":{\"execution_time\":true}}}")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":{\"started_at\":123}}}")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":{\"started_at\":\"soon\"}}}")]
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"\\ud800\",\"timestamp\":\"2026-01-29T10:00:00Z\"}")] // escaped lone surrogate
    public void Malformed_bodies_are_reported_not_thrown(string json)
    {
        var result = E2bEventNormalizer.Normalize(Bytes(json), ReceiptId);

        Assert.False(result.IsValid);
        Assert.Null(result.Value);
        Assert.False(string.IsNullOrWhiteSpace(result.Error));
    }

    [Theory]
    [InlineData("", "empty body")]
    [InlineData("[]", "body is not a json object")]
    [InlineData("[", "invalid json")]
    [InlineData("{\"sandboxId\":", "invalid json")]
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\"} trailing", "invalid json")]
    [InlineData("{\"eventLabel\":\"kill\",\"timestamp\":\"2026-01-29T10:00:00Z\"}", "missing sandbox id")]
    [InlineData("{\"sandboxId\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\"}", "missing event label and type")]
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"s\"}", "missing timestamp")]
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"s\",\"timestamp\":\"yesterday\"}", "timestamp is not an ISO 8601 time")]
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"s\",\"timestamp\":1769680800}", "timestamp must be a string")]
    [InlineData("{\"version\":\"v2\",\"type\":\"t\",\"sandbox_id\":42,\"timestamp\":\"2026-01-29T10:00:00Z\"}", "sandbox_id must be a string")]
    [InlineData("{\"id\":7,\"type\":\"t\",\"sandboxId\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\"}", "id must be a string")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":[]}", "event_data must be an object")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"sandbox_metadata\":\"x\"}}", "sandbox_metadata must be an object")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":5}}", "execution must be an object")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":{\"vcpu_count\":\"two\"}}}", "vcpu_count must be a number")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":{\"vcpuCount\":2.5}}}", "vcpuCount must be an integer")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":{\"memory_mb\":99999999999}}}", "memory_mb out of range")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":{\"execution_time\":-1}}}", "execution_time out of range")]
    [InlineData("{\"event_label\":\"kill\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"event_data\":{\"execution\":{\"started_at\":123}}}", "started_at must be a string")]
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"\\ud800\",\"timestamp\":\"2026-01-29T10:00:00Z\"}", "invalid json string")]
    [InlineData("{\"eventLabel\":\"kill\",\"sandboxId\":\"a\\u0000b\",\"timestamp\":\"2026-01-29T10:00:00Z\"}", "sandboxId contains a NUL character (U+0000)")]
    [InlineData("{\"version\":\"v2\",\"id\":\"\\u0000\",\"type\":\"t\",\"sandbox_id\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\"}", "id contains a NUL character (U+0000)")]
    public void Malformed_bodies_say_which_field_and_why(string json, string expected)
    {
        Assert.Equal(expected, E2bEventNormalizer.Normalize(Bytes(json), ReceiptId).Error);
    }

    [Fact]
    public void Deeply_nested_json_is_malformed_not_thrown()
    {
        var json = "{\"eventLabel\":\"kill\",\"sandboxId\":\"s\",\"timestamp\":\"2026-01-29T10:00:00Z\",\"x\":" +
            new string('[', 1000) + new string(']', 1000) + "}";

        var result = E2bEventNormalizer.Normalize(Bytes(json), ReceiptId);

        Assert.False(result.IsValid);
        Assert.False(string.IsNullOrWhiteSpace(result.Error));
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFE, 0xFD })]
    [InlineData(new byte[] { (byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}' })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })] // UTF-8-encoded surrogate
    public void Invalid_utf8_is_malformed_not_thrown(byte[] body)
    {
        var result = E2bEventNormalizer.Normalize(body, ReceiptId);

        Assert.False(result.IsValid);
        Assert.False(string.IsNullOrWhiteSpace(result.Error));
    }

    [Fact]
    public void Invalid_utf8_inside_an_otherwise_valid_body_is_malformed()
    {
        var body = Bytes(SeedBody);
        var at = Array.IndexOf(body, (byte)'k'); // inside "kill"
        body[at] = 0xC0;

        var result = E2bEventNormalizer.Normalize(body, ReceiptId);

        Assert.False(result.IsValid);
        Assert.Equal("invalid utf-8", result.Error);
    }

    [Theory]
    [InlineData("sandbox_id", "sandbox id")]
    [InlineData("sandbox_template_id", "template id")]
    [InlineData("sandbox_team_id", "team id")]
    [InlineData("sandbox_build_id", "build id")]
    [InlineData("sandbox_execution_id", "execution id")]
    public void An_id_longer_than_the_sandbox_registry_stores_is_malformed(string field, string name)
    {
        var limit = Pipeline.Persistence.ColumnLengths.SandboxId;
        byte[] Body(int length) => System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string>
        {
            ["id"] = "e-long", ["version"] = "v2", ["type"] = "sandbox.lifecycle.created", ["timestamp"] = "2026-01-29T10:00:00Z",
            ["event_label"] = "create", ["sandbox_id"] = "sbx-1", [field] = new string('s', length),
        });

        NormalizeOk(Body(limit));
        var result = E2bEventNormalizer.Normalize(Body(limit + 1), ReceiptId);

        Assert.False(result.IsValid);
        Assert.Equal($"{name} is longer than {limit} characters", result.Error);
    }

    [Fact]
    public void An_event_id_longer_than_the_dedup_column_is_keyed_by_its_hash()
    {
        var id = new string('e', 500);
        var body = Bytes(EquivalentV2Body.Replace("0b6f2a53-7f1e-4d55-9a7e-000000000002", id, StringComparison.Ordinal));

        var result = E2bEventNormalizer.Normalize(body, ReceiptId);

        Assert.True(result.IsValid, result.Error);
        Assert.Equal("id-sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id))), result.DedupKey);
        Assert.Equal(result.DedupKey, result.Value!.EventId);
    }
}
