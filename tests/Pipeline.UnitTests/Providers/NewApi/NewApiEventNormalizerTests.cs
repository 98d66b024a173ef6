using System.Security.Cryptography;
using System.Text;
using Pipeline.Ingress.Providers.NewApi;
using Pipeline.Messages.Credits;

namespace Pipeline.UnitTests.Providers.NewApi;

public class NewApiEventNormalizerTests
{
    private static readonly Guid ReceiptId = Guid.CreateVersion7();

    private static byte[] Bytes(string json) => Encoding.UTF8.GetBytes(json);

    private static UsageRecordedV1 Usage(string json)
    {
        var result = NewApiEventNormalizer.Normalize(Bytes(json), ReceiptId);
        Assert.True(result.IsValid, result.Error);
        return Assert.IsType<UsageRecordedV1>(result.Value);
    }

    private static string Error(string json)
    {
        var result = NewApiEventNormalizer.Normalize(Bytes(json), ReceiptId);
        Assert.False(result.IsValid);
        Assert.NotNull(result.Error);
        return result.Error;
    }

    private const string FullConsume = """
        {"type":"consume","title":"","content":"","timestamp":1700000100,
         "data":{"request_id":"20251108100000123456789abcdef","user_id":42,"username":"alice","token_id":7,
                 "token_name":"default","model_name":"gpt-4o-mini","quota":1500,"prompt_tokens":100,
                 "completion_tokens":20,"use_time":2,"is_stream":true,"group":"default","channel":3,
                 "created_at":1700000099}}
        """;

    [Fact]
    public void Consume_event_becomes_usage_keyed_by_request_id()
    {
        var result = NewApiEventNormalizer.Normalize(Bytes(FullConsume), ReceiptId);

        Assert.True(result.IsValid, result.Error);
        Assert.Equal("consume:20251108100000123456789abcdef", result.DedupKey);
        var usage = Assert.IsType<UsageRecordedV1>(result.Value);
        Assert.Equal("20251108100000123456789abcdef", usage.RequestId);
        Assert.Equal("42", usage.UserId);
        Assert.Equal("alice", usage.Username);
        Assert.Equal("7", usage.TokenId);
        Assert.Equal("default", usage.TokenName);
        Assert.Equal("gpt-4o-mini", usage.ModelName);
        Assert.Equal(1500, usage.Quota);
        Assert.Equal(100, usage.PromptTokens);
        Assert.Equal(20, usage.CompletionTokens);
        Assert.Equal(2.0, usage.UseTime);
        Assert.True(usage.IsStream);
        Assert.Equal("default", usage.Group);
        Assert.Equal("3", usage.Channel);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000099), usage.OccurredAt);
        Assert.Equal(ReceiptId, usage.ReceiptId);
    }

    [Fact]
    public void User_id_as_a_string_is_kept_as_is()
    {
        var usage = Usage("""{"type":"consume","timestamp":1700000000,"data":{"request_id":"r1","user_id":"user-abc","quota":0}}""");

        Assert.Equal("user-abc", usage.UserId);
        Assert.Equal(0, usage.Quota);
    }

    [Fact]
    public void User_id_number_and_numeric_string_give_the_same_user()
    {
        var fromNumber = Usage("""{"type":"consume","timestamp":1700000000,"data":{"request_id":"r1","user_id":1001,"quota":5}}""");
        var fromString = Usage("""{"type":"consume","timestamp":1700000000,"data":{"request_id":"r2","user_id":"1001","quota":5}}""");

        Assert.Equal("1001", fromNumber.UserId);
        Assert.Equal(fromNumber.UserId, fromString.UserId);
    }

    [Fact]
    public void Minimal_consume_falls_back_to_the_envelope_timestamp_and_leaves_optionals_empty()
    {
        var usage = Usage("""{"type":"consume","timestamp":1700000000,"data":{"request_id":"r1","user_id":1,"quota":10}}""");

        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), usage.OccurredAt);
        Assert.Null(usage.Username);
        Assert.Null(usage.ModelName);
        Assert.Null(usage.PromptTokens);
        Assert.Null(usage.IsStream);
        Assert.Null(usage.Channel);
    }

    [Fact]
    public void Quota_as_a_numeric_string_is_accepted()
    {
        Assert.Equal(250, Usage("""{"type":"consume","timestamp":1700000000,"data":{"request_id":"r1","user_id":1,"quota":"250"}}""").Quota);
    }

    [Fact]
    public void Byte_order_mark_is_ignored()
    {
        var body = Encoding.UTF8.GetPreamble().Concat(Bytes("""{"type":"consume","timestamp":1,"data":{"request_id":"r","user_id":1,"quota":1}}""")).ToArray();

        Assert.True(NewApiEventNormalizer.Normalize(body, ReceiptId).IsValid);
    }

    [Fact]
    public void Notification_is_passed_on_keyed_by_the_body_hash()
    {
        const string json = """{"type":"quota_exceed","title":"t","content":"c","values":["a",2,{"k":true}],"timestamp":1700000000}""";
        var result = NewApiEventNormalizer.Normalize(Bytes(json), ReceiptId);

        Assert.True(result.IsValid, result.Error);
        var expectedKey = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Bytes(json)));
        Assert.Equal(expectedKey, result.DedupKey);
        var notification = Assert.IsType<GatewayNotificationV1>(result.Value);
        Assert.Equal(expectedKey, notification.EventId);
        Assert.Equal("quota_exceed", notification.Type);
        Assert.Equal("t", notification.Title);
        Assert.Equal("c", notification.Content);
        Assert.Equal(["a", "2", """{"k":true}"""], notification.Values);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), notification.OccurredAt);
    }

    [Theory]
    [InlineData("channel_update")]
    [InlineData("channel_test")]
    [InlineData("something_new")]
    public void Any_other_type_is_a_notification(string type)
    {
        var result = NewApiEventNormalizer.Normalize(Bytes($$"""{"type":"{{type}}","title":"x","content":"y","timestamp":1700000000}"""), ReceiptId);

        Assert.Equal(type, Assert.IsType<GatewayNotificationV1>(result.Value).Type);
    }

    [Fact]
    public void The_documented_vector_body_is_a_valid_notification()
    {
        var result = NewApiEventNormalizer.Normalize(
            Bytes("""{"type":"quota_exceed","title":"t","content":"c","timestamp":1700000000}"""), ReceiptId);

        Assert.Null(Assert.IsType<GatewayNotificationV1>(result.Value).Values);
    }

    [Theory]
    [InlineData("", "empty body")]
    [InlineData("not json", "invalid json")]
    [InlineData("[1,2]", "body is not a json object")]
    [InlineData("""{"type":"consume"} trailing""", "invalid json")]
    [InlineData("""{"title":"t","timestamp":1}""", "missing type")]
    [InlineData("""{"type":"","timestamp":1}""", "missing type")]
    [InlineData("""{"type":5,"timestamp":1}""", "type must be a string")]
    [InlineData("""{"type":"quota_exceed","title":"t"}""", "missing timestamp")]
    [InlineData("""{"type":"quota_exceed","timestamp":"soon"}""", "timestamp must be a number")]
    [InlineData("""{"type":"quota_exceed","timestamp":1.5}""", "timestamp must be an integer")]
    [InlineData("""{"type":"quota_exceed","timestamp":-1}""", "timestamp out of range")]
    [InlineData("""{"type":"quota_exceed","timestamp":99999999999999}""", "timestamp out of range")]
    [InlineData("""{"type":"quota_exceed","timestamp":1,"values":"a"}""", "values must be an array")]
    [InlineData("""{"type":"quota_exceed","timestamp":1,"title":3}""", "title must be a string")]
    [InlineData("""{"type":"consume","timestamp":1}""", "consume event without a data object")]
    [InlineData("""{"type":"consume","timestamp":1,"data":[1]}""", "data must be an object")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"user_id":1,"quota":1}}""", "missing data.request_id")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"  ","user_id":1,"quota":1}}""", "missing data.request_id")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":7,"user_id":1,"quota":1}}""", "request_id must be a string")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"r","quota":1}}""", "missing data.user_id")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"r","user_id":"","quota":1}}""", "missing data.user_id")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"r","user_id":1.5,"quota":1}}""", "user_id must be a string or an integer")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"r","user_id":true,"quota":1}}""", "user_id must be a string or an integer")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"r","user_id":1}}""", "missing data.quota")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"r","user_id":1,"quota":-5}}""", "quota out of range")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"r","user_id":1,"quota":1.25}}""", "quota must be an integer")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"r","user_id":1,"quota":"lots"}}""", "quota must be a number")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"r","user_id":1,"quota":1e20}}""", "quota out of range")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"r","user_id":1,"quota":1,"is_stream":"maybe"}}""", "is_stream must be a boolean")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"r","user_id":1,"quota":1,"prompt_tokens":-1}}""", "prompt_tokens out of range")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"r","user_id":1,"quota":1,"use_time":-2}}""", "use_time must be a non-negative number")]
    [InlineData("""{"type":"consume","data":{"request_id":"r","user_id":1,"quota":1}}""", "missing data.created_at and timestamp")]
    [InlineData("""{"type":"consume","timestamp":1,"data":{"request_id":"r","user_id":1,"quota":1,"created_at":"x"}}""", "created_at must be a number")]
    public void Malformed_bodies_give_a_reason(string json, string expected)
    {
        Assert.Equal(expected, Error(json));
    }

    [Fact]
    public void Overlong_ids_are_malformed()
    {
        var longId = new string('r', NewApiEventNormalizer.MaxRequestIdLength + 1);
        Assert.Contains("request_id is longer", Error("{\"type\":\"consume\",\"timestamp\":1,\"data\":{\"request_id\":\"" + longId + "\",\"user_id\":1,\"quota\":1}}"));

        var longUser = new string('u', NewApiEventNormalizer.MaxUserIdLength + 1);
        Assert.Contains("user_id is longer", Error("{\"type\":\"consume\",\"timestamp\":1,\"data\":{\"request_id\":\"r\",\"user_id\":\"" + longUser + "\",\"quota\":1}}"));
    }

    [Fact]
    public void Invalid_utf8_is_malformed()
    {
        byte[] body = [.. Bytes("{\"type\":\"consume\",\"title\":\""), 0xC3, 0x28, .. Bytes("\",\"timestamp\":1}")];

        Assert.Equal("invalid utf-8", NewApiEventNormalizer.Normalize(body, ReceiptId).Error);
    }

    [Fact]
    public void An_escaped_NUL_in_a_field_is_malformed()
    {
        Assert.Equal("request_id contains a NUL character (U+0000)",
            Error("""{"type":"consume","timestamp":1,"data":{"request_id":"r\u0000","user_id":"u","quota":1}}"""));
    }

    [Fact]
    public void Escaped_lone_surrogate_is_malformed_not_thrown()
    {
        Assert.Equal("invalid json string", Error("""{"type":"quota_exceed","title":"\ud800","timestamp":1}"""));
    }
}
