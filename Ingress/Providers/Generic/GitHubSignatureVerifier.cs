namespace Pipeline.Ingress.Providers.Generic;

/// <summary>GitHub: <c>X-Hub-Signature-256: sha256=&lt;hex HMAC-SHA256(secret, body)&gt;</c>; no timestamp, so no replay window.</summary>
public static class GitHubSignatureVerifier
{
    public const string SignatureHeader = "X-Hub-Signature-256";
    public const string DeliveryHeader = "X-GitHub-Delivery";
    public const string EventHeader = "X-GitHub-Event";

    public static VerificationResult Verify(ReadOnlySpan<byte> body, IHeaderDictionary headers, IReadOnlyList<string> secrets) =>
        HmacSha256Verifier.VerifyBodySignature(body, headers, secrets, SignatureHeader, SourceSchemes.GitHub);
}
