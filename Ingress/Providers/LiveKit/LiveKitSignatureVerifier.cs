using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Pipeline.Ingress.Providers.LiveKit;

/// <summary>
/// Checks a LiveKit webhook: the <c>Authorization</c> header is an HS256 JWT issued by an API key (<c>iss</c>) and
/// signed with that key's secret, valid between <c>nbf</c> and <c>exp</c> (at most a configured lifetime apart), whose
/// <c>sha256</c> claim is the Base64 SHA-256 of the raw body. Built once per set of keys; safe to share between requests.
/// </summary>
public sealed class LiveKitSignatureVerifier
{
    public const string Scheme = "livekit-jwt";
    public const string Sha256Claim = "sha256";

    private const string BearerScheme = "Bearer";
    private const int DigestSize = 32; // SHA-256

    // HMAC-SHA256's block size. RFC 2104 pads a shorter key with zeros to this length before use, so a key padded
    // here gives the same MAC; IdentityModel refuses HMAC keys under 256 bits, and LiveKit's own test vector (and
    // some deployments) use shorter secrets.
    private const int HmacBlockSize = 64;

    private static readonly JsonWebTokenHandler Handler = new();

    private readonly Dictionary<string, SymmetricSecurityKey> _keys;
    private readonly TimeSpan _clockSkew;
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxTokenLifetime;

    /// <param name="keys">API key → secret.</param>
    /// <param name="clockSkew">How far <c>nbf</c> and <c>exp</c> may be off from this machine's clock.</param>
    /// <param name="time">The clock; the system clock unless a test fixes it.</param>
    /// <param name="maxTokenLifetime">The longest <c>exp</c> − <c>nbf</c> accepted; <see cref="LiveKitOptions.DefaultMaxTokenLifetime"/> if null.</param>
    public LiveKitSignatureVerifier(IReadOnlyDictionary<string, string> keys, TimeSpan clockSkew, TimeProvider? time = null, TimeSpan? maxTokenLifetime = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = new Dictionary<string, SymmetricSecurityKey>(StringComparer.Ordinal);
        foreach (var (apiKey, secret) in keys)
        {
            if (!string.IsNullOrEmpty(apiKey) && !string.IsNullOrEmpty(secret))
            {
                _keys[apiKey] = SigningKey(secret);
            }
        }

        _clockSkew = clockSkew < TimeSpan.Zero ? TimeSpan.Zero : clockSkew;
        _time = time ?? TimeProvider.System;
        _maxTokenLifetime = maxTokenLifetime ?? LiveKitOptions.DefaultMaxTokenLifetime;
    }

    /// <summary>False when no key is configured: the provider is disabled.</summary>
    public bool IsConfigured => _keys.Count > 0;

    /// <param name="rawBody">The request body exactly as received.</param>
    /// <param name="authorization">The <c>Authorization</c> header: the raw JWT, or <c>Bearer</c> and the JWT.</param>
    /// <returns>Valid with the scheme and API key, or Invalid with a short fixed reason. Never throws on bad input.</returns>
    public async ValueTask<VerificationResult> VerifyAsync(ReadOnlyMemory<byte> rawBody, string? authorization)
    {
        if (!IsConfigured)
        {
            return VerificationResult.NotConfigured;
        }

        var token = authorization.AsSpan().Trim();
        if (token.StartsWith(BearerScheme, StringComparison.OrdinalIgnoreCase)
            && (token.Length == BearerScheme.Length || char.IsWhiteSpace(token[BearerScheme.Length])))
        {
            token = token[BearerScheme.Length..].TrimStart();
        }

        if (token.IsEmpty)
        {
            return VerificationResult.Invalid("missing authorization");
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token.ToString());
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException)
        {
            return VerificationResult.Invalid("invalid token");
        }

        // Checked before any key is looked up, so "none", RS256 or HS384 never reach signature validation.
        if (!string.Equals(jwt.Alg, SecurityAlgorithms.HmacSha256, StringComparison.Ordinal))
        {
            return VerificationResult.Invalid("unsupported algorithm");
        }

        if (!TryGetIssuer(jwt, out var apiKey))
        {
            return VerificationResult.Invalid("missing api key");
        }

        if (!_keys.TryGetValue(apiKey, out var signingKey))
        {
            return VerificationResult.Invalid("unknown api key");
        }

        var parameters = new TokenValidationParameters
        {
            ValidIssuer = apiKey,
            ValidateIssuer = true,
            ValidateAudience = false,
            IssuerSigningKey = signingKey,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireSignedTokens = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = _clockSkew,
            LifetimeValidator = ValidateLifetime,
        };

        var validation = await Handler.ValidateTokenAsync(jwt, parameters);
        if (!validation.IsValid)
        {
            return VerificationResult.Invalid(Reason(validation.Exception));
        }

        if (!jwt.TryGetPayloadValue<string>(Sha256Claim, out var claimed) || string.IsNullOrWhiteSpace(claimed))
        {
            return VerificationResult.Invalid("missing sha256 claim");
        }

        if (!Signatures.TryDecodeBase64Digest(claimed, urlSafe: true, out var expected))
        {
            return VerificationResult.Invalid("malformed sha256 claim");
        }

        Span<byte> actual = stackalloc byte[DigestSize];
        SHA256.HashData(rawBody.Span, actual);
        return CryptographicOperations.FixedTimeEquals(actual, expected)
            ? VerificationResult.Valid($"{Scheme} key {apiKey}")
            : VerificationResult.Invalid("body hash mismatch");
    }

    // IdentityModel's own lifetime check reads the system clock; this one reads ours, with the same skew rules.
    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken token, TokenValidationParameters parameters)
    {
        if (expires is null)
        {
            throw new SecurityTokenNoExpirationException("token has no exp");
        }

        var now = _time.GetUtcNow().UtcDateTime;
        if (notBefore is { } nbf && nbf > now + _clockSkew)
        {
            throw new SecurityTokenNotYetValidException("token not yet valid") { NotBefore = nbf };
        }

        if (expires.Value < now - _clockSkew)
        {
            throw new SecurityTokenExpiredException("token expired") { Expires = expires.Value };
        }

        // From nbf, else iat, else now (a token with neither may still not run further ahead than the maximum).
        var issued = token is JsonWebToken { IssuedAt: var iat } && iat != DateTime.MinValue ? iat : now;
        var start = notBefore ?? issued;
        if (expires.Value - start > _maxTokenLifetime || expires.Value - now > _maxTokenLifetime + _clockSkew)
        {
            throw new SecurityTokenInvalidLifetimeException("token lifetime too long") { NotBefore = notBefore, Expires = expires.Value };
        }

        return true;
    }

    private static string Reason(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => "token expired",
        SecurityTokenNotYetValidException => "token not yet valid",
        SecurityTokenNoExpirationException => "missing expiry",
        SecurityTokenInvalidLifetimeException => "token lifetime too long",
        SecurityTokenInvalidAlgorithmException => "unsupported algorithm",
        SecurityTokenInvalidIssuerException => "unknown api key",
        SecurityTokenInvalidSignatureException or SecurityTokenSignatureKeyNotFoundException => "invalid signature",
        _ => "invalid token",
    };

    private static bool TryGetIssuer(JsonWebToken jwt, out string issuer)
    {
        try
        {
            issuer = jwt.Issuer;
        }
        catch (ArgumentException)
        {
            // A non-string iss.
            issuer = "";
        }

        return !string.IsNullOrEmpty(issuer);
    }

    private static SymmetricSecurityKey SigningKey(string secret)
    {
        var bytes = Encoding.UTF8.GetBytes(secret);
        if (bytes.Length < HmacBlockSize)
        {
            Array.Resize(ref bytes, HmacBlockSize);
        }

        return new SymmetricSecurityKey(bytes);
    }

}
