using System.Text.Unicode;

namespace Pipeline.Ingress.Providers.Generic;

/// <summary>Checks a request against its source's scheme, then that the body is UTF-8 text (the message carries it as text).</summary>
public static class GenericSourceVerifier
{
    public static VerificationResult Verify(GenericSource source, ReadOnlySpan<byte> body, HttpRequest request, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(request);
        var headers = request.Headers;
        var result = source.Scheme switch
        {
            SourceSchemes.StandardWebhooks => StandardWebhooksVerifier.Verify(body, headers, source.Secrets, now, source.Tolerance),
            SourceSchemes.HmacSha256 => HmacSha256Verifier.Verify(body, headers, source.Secrets, now, source.Tolerance),
            SourceSchemes.GitHub => GitHubSignatureVerifier.Verify(body, headers, source.Secrets),
            SourceSchemes.Stripe => StripeSignatureVerifier.Verify(body, headers, source.Secrets, now, source.Tolerance),
            SourceSchemes.Slack => SlackSignatureVerifier.Verify(body, headers, source.Secrets, now, source.Tolerance),
            SourceSchemes.Token => TokenVerifier.Verify(headers, request.Query, source.Secrets, source.TokenHeader),
            _ => VerificationResult.NotConfigured,
        };

        // Only after the sender is known to be genuine: an unauthenticated caller learns nothing about the body check.
        return result.IsValid && !Utf8.IsValid(body)
            ? VerificationResult.Invalid(GenericReasons.NotUtf8, StatusCodes.Status400BadRequest)
            : result;
    }
}
