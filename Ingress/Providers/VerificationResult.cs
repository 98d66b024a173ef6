namespace Pipeline.Ingress.Providers;

/// <summary>The outcome of checking a request's signature; <see cref="Reason"/> is logged and counted, never a secret.</summary>
public readonly record struct VerificationResult(bool IsValid, string Reason)
{
    public static VerificationResult Valid(string scheme) => new(true, scheme);
    public static VerificationResult Invalid(string reason) => new(false, reason);
}
