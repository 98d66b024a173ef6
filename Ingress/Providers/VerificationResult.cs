namespace Pipeline.Ingress.Providers;

/// <summary>
/// The outcome of checking a request's signature; <see cref="Reason"/> is logged and counted, never a secret.
/// <see cref="Status"/> is what a refusal answers: 401 unless the check says otherwise (404 for a provider without
/// secrets, 400 for a genuine body that is not text, for instance).
/// </summary>
public readonly record struct VerificationResult(bool IsValid, string Reason, int Status = StatusCodes.Status401Unauthorized)
{
    /// <summary>The reason every provider and source without a usable secret is refused with.</summary>
    public const string NotConfiguredReason = "provider not configured";

    public static VerificationResult Valid(string scheme) => new(true, scheme, StatusCodes.Status200OK);
    public static VerificationResult Invalid(string reason, int status = StatusCodes.Status401Unauthorized) => new(false, reason, status);

    /// <summary>No usable secret: 404, as a route that does not exist, whichever check finds it.</summary>
    public static VerificationResult NotConfigured => new(false, NotConfiguredReason, StatusCodes.Status404NotFound);
}
