using Pipeline.Hosting.Access;

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
        else if (Signatures.TryGetHeader(headers, tokenHeader, out received)
                 && received.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            received = received[BearerPrefix.Length..].Trim();
        }

        if (received.Length == 0)
        {
            return VerificationResult.Invalid(GenericReasons.MissingToken);
        }

        if (secrets.All(string.IsNullOrWhiteSpace))
        {
            return VerificationResult.NotConfigured;
        }

        return BearerKeys.Matches(received, secrets)
            ? VerificationResult.Valid(SourceSchemes.Token)
            : VerificationResult.Invalid(GenericReasons.TokenMismatch);
    }
}
