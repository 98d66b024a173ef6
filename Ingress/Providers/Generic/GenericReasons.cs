namespace Pipeline.Ingress.Providers.Generic;

/// <summary>The fixed reasons a configured source's request is refused with: metric labels, never request data.</summary>
public static class GenericReasons
{
    public const string UnknownSource = "unknown source";
    public const string NotConfigured = VerificationResult.NotConfiguredReason;
    public const string MissingSignature = "missing signature header";
    public const string MalformedSignature = "malformed signature header";
    public const string UnsupportedVersion = "unsupported signature version";
    public const string SignatureMismatch = "signature mismatch";
    public const string MissingId = "missing id header";
    public const string MissingTimestamp = "missing timestamp header";
    public const string MalformedTimestamp = "malformed timestamp";
    public const string OutsideTolerance = "timestamp outside tolerance";
    public const string MissingToken = "missing token";
    public const string TokenMismatch = "token mismatch";
    public const string NotUtf8 = "body is not UTF-8";
    public const string NotJson = "body is not JSON";

    /// <summary>The body, or its event type or id, holds U+0000: forwarded as text, which no PostgreSQL column can hold.</summary>
    public const string NulCharacter = "NUL character (U+0000) in the body";
}
