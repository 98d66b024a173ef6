using System.Security.Cryptography;
using System.Text;

namespace Pipeline.Ingress.Providers.Generic;

/// <summary>
/// Unsigned senders (LangGraph run webhooks, for one) secured by a shared token: the <c>?token=</c> query parameter,
/// or a configured header (an optional <c>Bearer </c> prefix is dropped). Nothing about the body is checked.
/// </summary>
public static class TokenVerifier
{
    public const string QueryParameter = "token";
    private const string BearerPrefix = "Bearer ";

    /// <param name="tokenHeader">The header that carries the token; null to read the query parameter instead.</param>
    public static VerificationResult Verify(IHeaderDictionary headers, IQueryCollection query, IReadOnlyList<string> secrets, string? tokenHeader)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(secrets);

        string received;
        if (tokenHeader is null)
        {
            received = query.TryGetValue(QueryParameter, out var values) && values.Count > 0 ? values[0]?.Trim() ?? "" : "";
        }
        else if (SignatureChecks.TryGetHeader(headers, tokenHeader, out received)
                 && received.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            received = received[BearerPrefix.Length..].Trim();
        }

        if (received.Length == 0)
        {
            return VerificationResult.Invalid(GenericReasons.MissingToken);
        }

        // Digests are compared, not the tokens, so neither the time taken nor a length check says how long a token is.
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(received), actual);
        var configured = false;
        var matched = false;
        foreach (var secret in secrets)
        {
            if (string.IsNullOrWhiteSpace(secret))
            {
                continue;
            }

            configured = true;
            SHA256.HashData(Encoding.UTF8.GetBytes(secret), expected);
            matched |= CryptographicOperations.FixedTimeEquals(expected, actual);
        }

        if (!configured)
        {
            return VerificationResult.Invalid(GenericReasons.NotConfigured, StatusCodes.Status404NotFound);
        }

        return matched
            ? VerificationResult.Valid(SourceSchemes.Token)
            : VerificationResult.Invalid(GenericReasons.TokenMismatch);
    }
}
