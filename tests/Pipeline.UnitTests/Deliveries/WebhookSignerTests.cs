using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Pipeline.Consumers.Deliveries.Signing;
using Pipeline.Ingress.Providers.Generic;
using Pipeline.Persistence.Deliveries;

namespace Pipeline.UnitTests.Deliveries;

public class WebhookSignerTests
{
    // Standard Webhooks' published test vector.
    private const string VectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    private const string VectorId = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    private const long VectorTimestamp = 1614265330;
    private const string VectorBody = """{"test": 2432232314}""";
    private const string VectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    private static readonly Guid DeliveryId = Guid.Parse("0199a000-0000-7000-8000-000000000001");

    [Fact]
    public void Standard_webhooks_signature_reproduces_the_published_vector() =>
        Assert.Equal(VectorSignature, WebhookSigner.StandardWebhooksSignature([VectorSecret], VectorId, VectorTimestamp, Encoding.UTF8.GetBytes(VectorBody)));

    [Fact]
    public void Standard_webhooks_headers_carry_the_id_timestamp_and_one_signature_per_active_secret()
    {
        var newer = WebhookSigner.NewSecret();
        var headers = WebhookSigner.Headers(SigningSchemes.StandardWebhooks, [newer, VectorSecret], VectorId, "sandbox.created", DeliveryId,
            VectorTimestamp, Encoding.UTF8.GetBytes(VectorBody)).ToDictionary();

        Assert.Equal(VectorId, headers["webhook-id"]);
        Assert.Equal("1614265330", headers["webhook-timestamp"]);
        var entries = headers["webhook-signature"].Split(' ');
        Assert.Equal(2, entries.Length);
        Assert.Equal(VectorSignature, entries[1]);
        Assert.Equal(WebhookSigner.StandardWebhooksSignature([newer], VectorId, VectorTimestamp, Encoding.UTF8.GetBytes(VectorBody)), entries[0]);
    }

    [Fact]
    public void Ingress_standard_webhooks_verifier_accepts_what_is_signed_with_either_secret_during_a_rotation()
    {
        var (oldSecret, newSecret) = (WebhookSigner.NewSecret(), WebhookSigner.NewSecret());
        var body = Encoding.UTF8.GetBytes("""{"id":"evt_1","event_type":"sandbox.killed"}""");
        var now = DateTimeOffset.UtcNow;
        var headers = Headers(WebhookSigner.Headers(SigningSchemes.StandardWebhooks, [newSecret, oldSecret], "evt_1", "sandbox.killed", DeliveryId,
            now.ToUnixTimeSeconds(), body));

        foreach (var secret in new[] { oldSecret, newSecret })
        {
            var result = StandardWebhooksVerifier.Verify(body, headers, [secret], now, TimeSpan.FromMinutes(5));
            Assert.True(result.IsValid, result.Reason);
        }

        Assert.False(StandardWebhooksVerifier.Verify(body, headers, [WebhookSigner.NewSecret()], now, TimeSpan.FromMinutes(5)).IsValid);
        Assert.False(StandardWebhooksVerifier.Verify([.. body, (byte)' '], headers, [newSecret], now, TimeSpan.FromMinutes(5)).IsValid);
    }

    [Fact]
    public void Seed_scheme_signs_the_body_with_the_secret_text_as_hex_and_names_event_delivery_and_time()
    {
        var secret = WebhookSigner.NewSecret();
        var body = Encoding.UTF8.GetBytes("""{"id":"evt_2","event_type":"credits.exhausted"}""");

        var headers = WebhookSigner.Headers(SigningSchemes.HmacSha256, [secret], "evt_2", "credits.exhausted", DeliveryId, 1762596000, body).ToDictionary();

        // The seed's receiver: hmac.new(secret.encode('utf-8'), payload, sha256).hexdigest() behind "sha256=".
        Assert.Equal("sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body)), headers["X-Webhook-Signature"]);
        Assert.Equal("credits.exhausted", headers["X-Webhook-Event"]);
        Assert.Equal(DeliveryId.ToString(), headers["X-Webhook-Delivery"]);
        Assert.Equal("1762596000", headers["X-Webhook-Timestamp"]);
        Assert.False(headers.ContainsKey("X-Webhook-Signature-Previous"));
        Assert.False(headers.ContainsKey("webhook-signature"));
    }

    [Fact]
    public void Ingress_hmac_verifier_accepts_the_seed_scheme_and_the_previous_secret_signs_in_its_own_header()
    {
        var (oldSecret, newSecret) = (WebhookSigner.NewSecret(), WebhookSigner.NewSecret());
        var body = Encoding.UTF8.GetBytes("""{"id":"evt_3"}""");
        var now = DateTimeOffset.UtcNow;
        var pairs = WebhookSigner.Headers(SigningSchemes.HmacSha256, [newSecret, oldSecret], "evt_3", "room.started", DeliveryId, now.ToUnixTimeSeconds(), body);

        Assert.True(HmacSha256Verifier.Verify(body, Headers(pairs), [newSecret], now, TimeSpan.FromMinutes(5)).IsValid);
        Assert.False(HmacSha256Verifier.Verify(body, Headers(pairs), [oldSecret], now, TimeSpan.FromMinutes(5)).IsValid);
        Assert.Equal(WebhookSigner.HmacSha256Signature(oldSecret, body), pairs.ToDictionary()["X-Webhook-Signature-Previous"]);
    }

    [Fact]
    public void New_secrets_are_whsec_and_32_random_bytes()
    {
        var a = WebhookSigner.NewSecret();
        var b = WebhookSigner.NewSecret();

        Assert.StartsWith("whsec_", a);
        Assert.Equal(32, WebhookSigner.KeyOf(a).Length);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void The_previous_secret_signs_only_until_its_overlap_ends()
    {
        var now = DateTime.UtcNow;
        var endpoint = new WebhookEndpoint
        {
            Url = "https://example.test/hook", EventTypes = "[\"*\"]", Scheme = SigningSchemes.StandardWebhooks,
            Secret = "whsec_new", PreviousSecret = "whsec_old", PreviousSecretExpiresAt = now.AddHours(1),
        };

        Assert.Equal(["whsec_new", "whsec_old"], WebhookSigner.ActiveSecrets(endpoint, now));
        Assert.Equal(["whsec_new"], WebhookSigner.ActiveSecrets(endpoint, now.AddHours(2)));
    }

    private static HeaderDictionary Headers(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var headers = new HeaderDictionary();
        foreach (var (name, value) in pairs)
        {
            headers[name] = value;
        }

        return headers;
    }
}
