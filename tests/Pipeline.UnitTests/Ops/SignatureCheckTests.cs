using System.Text;
using Pipeline.Consumers.Deliveries.Signing;
using Pipeline.Ops.Deliveries;

namespace Pipeline.UnitTests.Ops;

public class SignatureCheckTests
{
    [Fact]
    public void The_receivers_check_accepts_the_published_vector_at_its_time_and_nothing_changed()
    {
        var at = DateTimeOffset.FromUnixTimeSeconds(1614265330);
        var body = Encoding.UTF8.GetBytes("""{"test": 2432232314}""");
        const string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        const string signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

        Assert.Null(SignatureCheck.Verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", signature, body, at));
        Assert.Equal("no matching signature", SignatureCheck.Verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", signature, [.. body, (byte)' '], at));
        Assert.Equal("no matching signature", SignatureCheck.Verify(secret, "msg_other", "1614265330", signature, body, at));
        Assert.StartsWith("timestamp", SignatureCheck.Verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", signature, body, at.AddMinutes(6)));
    }

    [Fact]
    public void It_accepts_what_the_sender_signs_with_either_secret_of_a_rotation()
    {
        var (older, newer) = (WebhookSigner.NewSecret(), WebhookSigner.NewSecret());
        var now = DateTimeOffset.UtcNow;
        var body = Encoding.UTF8.GetBytes("""{"id":"evt_9","event_type":"webhook.test"}""");
        var signature = WebhookSigner.StandardWebhooksSignature([newer, older], "evt_9", now.ToUnixTimeSeconds(), body);

        Assert.Null(SignatureCheck.Verify(older, "evt_9", now.ToUnixTimeSeconds().ToString(), signature, body, now));
        Assert.Null(SignatureCheck.Verify(newer, "evt_9", now.ToUnixTimeSeconds().ToString(), signature, body, now));
        Assert.Equal("no matching signature", SignatureCheck.Verify(WebhookSigner.NewSecret(), "evt_9", now.ToUnixTimeSeconds().ToString(), signature, body, now));
    }
}
