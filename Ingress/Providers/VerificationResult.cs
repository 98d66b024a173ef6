namespace Pipeline.Ingress.Providers;

/// <summary>
/// The outcome of checking a request's signature; <see cref="Reason"/> is logged and counted, never a secret.
/// <see cref="Status"/> is what a refusal answers: 401 unless the check says otherwise (404 for a source that is
/// not configured, for instance).
/// </summary>
public readonly record struct VerificationResult(bool IsValid, string Reason, int Status = StatusCodes.Status401Unauthorized)
{
    public static VerificationResult Valid(string scheme) => new(true, scheme, StatusCodes.Status200OK);
    public static VerificationResult Invalid(string reason, int status = StatusCodes.Status401Unauthorized) => new(false, reason, status);
}
