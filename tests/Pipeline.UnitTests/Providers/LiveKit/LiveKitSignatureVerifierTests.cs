using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Pipeline.Ingress.Providers.LiveKit;

namespace Pipeline.UnitTests.Providers.LiveKit;

public class LiveKitSignatureVerifierTests
{
    // From PROVIDERS.md (LiveKit's own SDK tests): key, a 7-character secret, the exact body, its sha256 claim
    // and a token valid from 1628545903 to 1628546203.
    private const string VectorKey = "abcdefg";
    private const string VectorSecret = "abababa";

    private const string VectorBody =
        """{"event":"room_started", "room":{"sid":"RM_TkVjUvAqgzKz", "name":"mytestroom", "emptyTimeout":300, "creationTime":"1628545903", "turnPassword":"ICkSr2rEeslkN6e9bXL4Ji5zzMD5Z7zzr6ulOaxMj6N", "enabledCodecs":[{"mime":"audio/opus"}, {"mime":"video/VP8"}]}}""";

    private const string VectorSha256 = "CoEQz1chqJ9bnZRcORddjplkvpjmPujmLTR42DbefYI=";

    private const string VectorToken =
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJhYmNkZWZnIiwibmJmIjoxNjI4NTQ1OTAzLCJleHAiOjE2Mjg1NDYyMDMsInNoYTI1NiI6IkNvRVF6MWNocUo5Ym5aUmNPUmRkanBsa3Zwam1QdWptTFRSNDJEYmVmWUk9In0.-wsFGCPV1n2k5eBu76GWuJmK8-7N9-2xOrt0kgG2Ca4";

    private static readonly DateTimeOffset VectorNotBefore = DateTimeOffset.FromUnixTimeSeconds(1628545903);
    private static readonly DateTimeOffset VectorExpires = DateTimeOffset.FromUnixTimeSeconds(1628546203);
    private static readonly TimeSpan Skew = TimeSpan.FromSeconds(60);

    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1771351907);

    private static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    private static string RandomSecret() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static LiveKitSignatureVerifier Verifier(IReadOnlyDictionary<string, string> keys, DateTimeOffset now) =>
        new(keys, Skew, new FixedClock(now));

    private static LiveKitSignatureVerifier VectorVerifier(DateTimeOffset now) =>
        Verifier(new Dictionary<string, string> { [VectorKey] = VectorSecret }, now);

    private static string BodyHash(byte[] body) => Convert.ToBase64String(SHA256.HashData(body));

    // What LiveKit sends: iss, nbf, exp = nbf + 5 min, sha256; HS256 unless a test asks otherwise.
    private static string Token(string key, SecurityKey signingKey, string algorithm, DateTimeOffset notBefore, object? sha256, TimeSpan? ttl = null)
    {
        var claims = new Dictionary<string, object>();
        if (sha256 is not null)
        {
            claims["sha256"] = sha256;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = key,
            NotBefore = notBefore.UtcDateTime,
            Expires = (notBefore + (ttl ?? TimeSpan.FromMinutes(5))).UtcDateTime,
            Claims = claims,
            SigningCredentials = new SigningCredentials(signingKey, algorithm),
        });
    }

    private static string Hs256Token(string key, string secret, byte[] body, DateTimeOffset notBefore) =>
        Token(key, new SymmetricSecurityKey(Bytes(secret)), SecurityAlgorithms.HmacSha256, notBefore, BodyHash(body));

    private static string Base64Url(string json) => Base64UrlEncoder.Encode(Bytes(json));

    [Fact]
    public void Vector_sha256_claim_is_the_padded_base64_digest_of_the_body()
    {
        Assert.Equal(VectorSha256, BodyHash(Bytes(VectorBody)));
    }

    [Theory]
    [InlineData(0)] // at nbf
    [InlineData(150)]
    [InlineData(300)] // at exp
    [InlineData(300 + 59)] // expired, but within the clock skew
    [InlineData(-59)] // not yet valid, but within the clock skew
    public async Task Documented_vector_token_verifies_inside_its_lifetime(int secondsAfterNotBefore)
    {
        var result = await VectorVerifier(VectorNotBefore.AddSeconds(secondsAfterNotBefore)).VerifyAsync(Bytes(VectorBody), VectorToken);

        Assert.True(result.IsValid, result.Reason);
        Assert.Equal("livekit-jwt key abcdefg", result.Reason);
    }

    [Fact]
    public async Task Bearer_prefix_is_accepted()
    {
        var verifier = VectorVerifier(VectorNotBefore.AddSeconds(10));

        Assert.True((await verifier.VerifyAsync(Bytes(VectorBody), "Bearer " + VectorToken)).IsValid);
        Assert.True((await verifier.VerifyAsync(Bytes(VectorBody), "bearer  " + VectorToken + " ")).IsValid);
    }

    [Fact]
    public async Task Tampered_body_is_a_body_hash_mismatch()
    {
        var tampered = Bytes(VectorBody.Replace("mytestroom", "mytestroon", StringComparison.Ordinal));

        var result = await VectorVerifier(VectorNotBefore.AddSeconds(10)).VerifyAsync(tampered, VectorToken);

        Assert.False(result.IsValid);
        Assert.Equal("body hash mismatch", result.Reason);
        Assert.Equal(401, result.Status);
    }

    [Fact]
    public async Task Trailing_newline_changes_the_hash()
    {
        var result = await VectorVerifier(VectorNotBefore.AddSeconds(10)).VerifyAsync(Bytes(VectorBody + "\n"), VectorToken);

        Assert.Equal("body hash mismatch", result.Reason);
    }

    [Fact]
    public async Task Wrong_secret_is_an_invalid_signature()
    {
        var verifier = Verifier(new Dictionary<string, string> { [VectorKey] = "abababb" }, VectorNotBefore.AddSeconds(10));

        var result = await verifier.VerifyAsync(Bytes(VectorBody), VectorToken);

        Assert.False(result.IsValid);
        Assert.Equal("invalid signature", result.Reason);
    }

    [Fact]
    public async Task Unknown_api_key_is_refused()
    {
        var verifier = Verifier(new Dictionary<string, string> { ["otherkey"] = VectorSecret }, VectorNotBefore.AddSeconds(10));

        var result = await verifier.VerifyAsync(Bytes(VectorBody), VectorToken);

        Assert.False(result.IsValid);
        Assert.Equal("unknown api key", result.Reason);
        Assert.Equal(401, result.Status);
    }

    [Fact]
    public async Task Api_keys_are_case_sensitive()
    {
        var verifier = Verifier(new Dictionary<string, string> { ["ABCDEFG"] = VectorSecret }, VectorNotBefore.AddSeconds(10));

        Assert.Equal("unknown api key", (await verifier.VerifyAsync(Bytes(VectorBody), VectorToken)).Reason);
    }

    [Fact]
    public async Task Expired_token_is_refused_beyond_the_skew()
    {
        var result = await VectorVerifier(VectorExpires.AddSeconds(61)).VerifyAsync(Bytes(VectorBody), VectorToken);

        Assert.False(result.IsValid);
        Assert.Equal("token expired", result.Reason);
    }

    [Fact]
    public async Task Token_from_the_future_is_refused_beyond_the_skew()
    {
        var result = await VectorVerifier(VectorNotBefore.AddSeconds(-61)).VerifyAsync(Bytes(VectorBody), VectorToken);

        Assert.False(result.IsValid);
        Assert.Equal("token not yet valid", result.Reason);
    }

    [Fact]
    public async Task Skew_is_configurable()
    {
        var strict = new LiveKitSignatureVerifier(
            new Dictionary<string, string> { [VectorKey] = VectorSecret }, TimeSpan.Zero, new FixedClock(VectorExpires.AddSeconds(1)));

        Assert.Equal("token expired", (await strict.VerifyAsync(Bytes(VectorBody), VectorToken)).Reason);
    }

    [Fact]
    public async Task Token_valid_for_longer_than_the_maximum_lifetime_is_refused_even_while_current()
    {
        var secret = RandomSecret();
        var body = Bytes("""{"event":"room_started","id":"EV_long"}""");
        var keys = new Dictionary<string, string> { ["key1"] = secret };
        var yearLong = Token("key1", new SymmetricSecurityKey(Bytes(secret)), SecurityAlgorithms.HmacSha256, Now, BodyHash(body), TimeSpan.FromDays(365));
        var twoHours = Token("key1", new SymmetricSecurityKey(Bytes(secret)), SecurityAlgorithms.HmacSha256, Now, BodyHash(body), TimeSpan.FromHours(2));
        // Issued long ago and about to expire: current, but its lifetime is what a captured copy could be replayed for.
        var longAgo = Token("key1", new SymmetricSecurityKey(Bytes(secret)), SecurityAlgorithms.HmacSha256, Now.AddHours(-3), BodyHash(body), TimeSpan.FromHours(3.1));

        Assert.Equal("token lifetime too long", (await Verifier(keys, Now.AddMinutes(1)).VerifyAsync(body, yearLong)).Reason);
        Assert.Equal("token lifetime too long", (await Verifier(keys, Now.AddMinutes(1)).VerifyAsync(body, twoHours)).Reason);
        Assert.Equal("token lifetime too long", (await Verifier(keys, Now).VerifyAsync(body, longAgo)).Reason);

        var lenient = new LiveKitSignatureVerifier(keys, Skew, new FixedClock(Now.AddMinutes(1)), maxTokenLifetime: TimeSpan.FromHours(3));
        Assert.True((await lenient.VerifyAsync(body, twoHours)).IsValid);
        Assert.True((await Verifier(keys, Now.AddMinutes(1)).VerifyAsync(body, Hs256Token("key1", secret, body, Now))).IsValid);
    }

    [Fact]
    public async Task Token_without_nbf_may_not_expire_further_ahead_than_the_maximum_lifetime()
    {
        var secret = RandomSecret();
        var body = Bytes("""{"event":"room_started"}""");
        string Expiring(TimeSpan expiresIn) => new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "key1",
            Expires = (Now + expiresIn).UtcDateTime,
            Claims = new Dictionary<string, object> { ["sha256"] = BodyHash(body) },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Bytes(secret)), SecurityAlgorithms.HmacSha256),
        });
        var verifier = Verifier(new Dictionary<string, string> { ["key1"] = secret }, Now);

        Assert.True((await verifier.VerifyAsync(body, Expiring(TimeSpan.FromMinutes(5)))).IsValid);
        Assert.Equal("token lifetime too long", (await verifier.VerifyAsync(body, Expiring(TimeSpan.FromHours(2)))).Reason);
    }

    [Fact]
    public async Task Token_without_exp_is_refused()
    {
        var secret = RandomSecret();
        var body = Bytes("""{"event":"room_started"}""");
        var token = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "key1",
            NotBefore = Now.UtcDateTime,
            Claims = new Dictionary<string, object> { ["sha256"] = BodyHash(body) },
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Bytes(secret)), SecurityAlgorithms.HmacSha256),
        });

        var result = await Verifier(new Dictionary<string, string> { ["key1"] = secret }, Now).VerifyAsync(body, token);

        Assert.False(result.IsValid);
        Assert.Equal("missing expiry", result.Reason);
    }

    [Fact]
    public async Task Unsigned_alg_none_token_is_refused()
    {
        var claims = Base64Url($$"""{"iss":"{{VectorKey}}","nbf":1628545903,"exp":1628546203,"sha256":"{{VectorSha256}}"}""");
        var verifier = VectorVerifier(VectorNotBefore.AddSeconds(10));

        foreach (var header in new[] { """{"alg":"none","typ":"JWT"}""", """{"alg":"None"}""", """{"typ":"JWT"}""" })
        {
            var encoded = Base64Url(header);
            // With an empty signature part (a JWS without signature) and without the part at all (not a JWS).
            var result = await verifier.VerifyAsync(Bytes(VectorBody), $"{encoded}.{claims}.");
            Assert.False(result.IsValid, header);
            Assert.Equal("unsupported algorithm", result.Reason);

            result = await verifier.VerifyAsync(Bytes(VectorBody), $"{encoded}.{claims}");
            Assert.False(result.IsValid, header);
            Assert.Equal("invalid token", result.Reason);
        }
    }

    [Fact]
    public async Task Vector_claims_with_the_signature_stripped_are_refused()
    {
        var unsigned = VectorToken[..(VectorToken.LastIndexOf('.') + 1)];

        var result = await VectorVerifier(VectorNotBefore.AddSeconds(10)).VerifyAsync(Bytes(VectorBody), unsigned);

        Assert.False(result.IsValid);
        Assert.Equal("invalid signature", result.Reason);
    }

    [Fact]
    public async Task Rs256_token_is_refused_even_when_correctly_signed()
    {
        using var rsa = RSA.Create(2048);
        var body = Bytes("""{"event":"room_finished","id":"EV_rsa"}""");
        var token = Token("key1", new RsaSecurityKey(rsa), SecurityAlgorithms.RsaSha256, Now, BodyHash(body));

        var result = await Verifier(new Dictionary<string, string> { ["key1"] = RandomSecret() }, Now).VerifyAsync(body, token);

        Assert.False(result.IsValid);
        Assert.Equal("unsupported algorithm", result.Reason);
    }

    [Theory]
    [InlineData(SecurityAlgorithms.HmacSha384)]
    [InlineData(SecurityAlgorithms.HmacSha512)]
    public async Task Other_hmac_algorithms_are_refused_with_the_right_secret(string algorithm)
    {
        var secret = RandomSecret() + RandomSecret(); // long enough for HS512
        var body = Bytes("""{"event":"room_finished","id":"EV_hs384"}""");
        var token = Token("key1", new SymmetricSecurityKey(Bytes(secret)), algorithm, Now, BodyHash(body));

        var result = await Verifier(new Dictionary<string, string> { ["key1"] = secret }, Now).VerifyAsync(body, token);

        Assert.False(result.IsValid);
        Assert.Equal("unsupported algorithm", result.Reason);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("Bearer ")]
    [InlineData("Bearer")]
    public async Task Missing_authorization_is_refused(string? header)
    {
        var result = await VectorVerifier(VectorNotBefore).VerifyAsync(Bytes(VectorBody), header);

        Assert.False(result.IsValid);
        Assert.Equal("missing authorization", result.Reason);
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("a.b.c")]
    [InlineData("...")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.e30")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln")]
    [InlineData("bm90IGpzb24.e30.c2ln")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.W10.c2ln")]
    [InlineData("Basic YWJjOmRlZg==")]
    [InlineData("a.b.c.d.e")]
    public async Task Garbage_tokens_are_refused_without_throwing(string header)
    {
        var result = await VectorVerifier(VectorNotBefore).VerifyAsync(Bytes(VectorBody), header);

        Assert.False(result.IsValid);
        Assert.Equal("invalid token", result.Reason);
        Assert.Equal(401, result.Status);
    }

    [Theory]
    [InlineData("""{"alg":5}""", """{"iss":"abcdefg"}""", "invalid token")]
    [InlineData("""{"alg":"HS256"}""", """{"iss":5,"exp":1628546203}""", "invalid token")]
    [InlineData("""{"alg":"HS256"}""", """{"iss":["abcdefg"],"exp":1628546203}""", "invalid token")]
    [InlineData("""{"alg":"HS256"}""", """{"iss":"abcdefg","exp":"soon"}""", "invalid token")]
    [InlineData("""{"alg":"HS256"}""", """{"iss":"abcdefg","nbf":{},"exp":1628546203}""", "invalid token")]
    [InlineData("""{"alg":"HS256"}""", """{"iss":"abcdefg","exp":1e400}""", "invalid token")]
    [InlineData("""{"alg":"HS256","crit":["x"]}""", """{"iss":"abcdefg","exp":1628546203}""", "invalid signature")]
    public async Task Odd_header_and_claim_types_are_refused_without_throwing(string header, string payload, string reason)
    {
        var token = $"{Base64Url(header)}.{Base64Url(payload)}.c2lnbmF0dXJl";

        var result = await VectorVerifier(VectorNotBefore).VerifyAsync(Bytes(VectorBody), token);

        Assert.False(result.IsValid);
        Assert.Equal(401, result.Status);
        Assert.Equal(reason, result.Reason);
    }

    [Fact]
    public async Task Token_without_issuer_is_refused()
    {
        var secret = RandomSecret();
        var body = Bytes("""{"event":"room_started"}""");
        var token = Token(null!, new SymmetricSecurityKey(Bytes(secret)), SecurityAlgorithms.HmacSha256, Now, BodyHash(body));

        var result = await Verifier(new Dictionary<string, string> { ["key1"] = secret }, Now).VerifyAsync(body, token);

        Assert.Equal("missing api key", result.Reason);
    }

    [Fact]
    public async Task Token_without_sha256_claim_is_refused()
    {
        var secret = RandomSecret();
        var body = Bytes("""{"event":"room_started"}""");
        var token = Token("key1", new SymmetricSecurityKey(Bytes(secret)), SecurityAlgorithms.HmacSha256, Now, sha256: null);

        var result = await Verifier(new Dictionary<string, string> { ["key1"] = secret }, Now).VerifyAsync(body, token);

        Assert.False(result.IsValid);
        Assert.Equal("missing sha256 claim", result.Reason);
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("AAAA")]
    [InlineData("A")]
    public async Task Malformed_sha256_claim_is_refused(string claim)
    {
        var secret = RandomSecret();
        var body = Bytes("""{"event":"room_started"}""");
        var token = Token("key1", new SymmetricSecurityKey(Bytes(secret)), SecurityAlgorithms.HmacSha256, Now, claim);

        var result = await Verifier(new Dictionary<string, string> { ["key1"] = secret }, Now).VerifyAsync(body, token);

        Assert.False(result.IsValid);
        Assert.Equal("malformed sha256 claim", result.Reason);
    }

    [Fact]
    public async Task Non_string_sha256_claim_is_refused()
    {
        var secret = RandomSecret();
        var body = Bytes("""{"event":"room_started"}""");
        var token = Token("key1", new SymmetricSecurityKey(Bytes(secret)), SecurityAlgorithms.HmacSha256, Now, 12345);

        var result = await Verifier(new Dictionary<string, string> { ["key1"] = secret }, Now).VerifyAsync(body, token);

        Assert.False(result.IsValid);
        Assert.Equal("malformed sha256 claim", result.Reason);
    }

    [Fact]
    public async Task Unpadded_and_url_safe_sha256_claims_are_accepted()
    {
        var secret = RandomSecret();
        // A body whose digest has '+' or '/' in it, so the URL-safe spelling really differs.
        byte[] body;
        var n = 0;
        do
        {
            body = Bytes($$"""{"event":"room_started","id":"EV_{{n++}}"}""");
        }
        while (!BodyHash(body).AsSpan().ContainsAny('+', '/'));

        var standard = BodyHash(body);
        var verifier = Verifier(new Dictionary<string, string> { ["key1"] = secret }, Now);
        foreach (var claim in new[] { standard, standard.TrimEnd('='), standard.Replace('+', '-').Replace('/', '_').TrimEnd('=') })
        {
            var token = Token("key1", new SymmetricSecurityKey(Bytes(secret)), SecurityAlgorithms.HmacSha256, Now, claim);
            var result = await verifier.VerifyAsync(body, token);
            Assert.True(result.IsValid, $"{claim}: {result.Reason}");
        }
    }

    [Fact]
    public async Task Any_configured_key_verifies_its_own_tokens()
    {
        var keys = new Dictionary<string, string> { ["old"] = RandomSecret(), ["new"] = RandomSecret() };
        var verifier = Verifier(keys, Now);
        var body = Bytes("""{"event":"participant_joined","id":"EV_rotation"}""");

        foreach (var (key, secret) in keys)
        {
            Assert.True((await verifier.VerifyAsync(body, Hs256Token(key, secret, body, Now))).IsValid, key);
        }

        // Signed by one key's secret but claiming the other key.
        var crossed = Hs256Token("old", keys["new"], body, Now);
        Assert.Equal("invalid signature", (await verifier.VerifyAsync(body, crossed)).Reason);
    }

    [Fact]
    public async Task Secrets_of_any_length_verify_as_plain_hmac_sha256()
    {
        // Short (padded internally), exactly one HMAC block, and longer than a block (hashed by HMAC itself).
        foreach (var length in new[] { 16, 31, 32, 63, 64, 65, 100 })
        {
            var secret = new string('s', length - 1) + "!";
            var body = Bytes($$"""{"event":"room_started","id":"EV_len{{length}}"}""");
            var token = SignWithoutIdentityModel("key1", secret, body, Now);

            var result = await Verifier(new Dictionary<string, string> { ["key1"] = secret }, Now).VerifyAsync(body, token);

            Assert.True(result.IsValid, $"{length}: {result.Reason}");
        }
    }

    [Fact]
    public async Task No_keys_means_provider_not_configured()
    {
        var verifier = Verifier(new Dictionary<string, string>(), VectorNotBefore);

        var result = await verifier.VerifyAsync(Bytes(VectorBody), VectorToken);

        Assert.False(verifier.IsConfigured);
        Assert.Equal("provider not configured", result.Reason);
        Assert.Equal(404, result.Status);
    }

    // A token built by hand (HMAC over header.payload), as LiveKit's Go server does, so the padding of short keys is
    // checked against an independent signer rather than against IdentityModel itself.
    private static string SignWithoutIdentityModel(string key, string secret, byte[] body, DateTimeOffset notBefore)
    {
        var header = Base64Url("""{"alg":"HS256","typ":"JWT"}""");
        var payload = Base64Url(
            $$"""{"iss":"{{key}}","nbf":{{notBefore.ToUnixTimeSeconds()}},"exp":{{notBefore.AddMinutes(5).ToUnixTimeSeconds()}},"sha256":"{{BodyHash(body)}}"}""");
        var signature = Base64UrlEncoder.Encode(HMACSHA256.HashData(Bytes(secret), Bytes($"{header}.{payload}")));
        return $"{header}.{payload}.{signature}";
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
