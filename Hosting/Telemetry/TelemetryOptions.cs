using System.ComponentModel.DataAnnotations;

namespace Pipeline.Hosting.Telemetry;

/// <summary>The <c>Telemetry</c> section: where traces go and how often the database-backed gauges are refreshed.</summary>
public sealed class TelemetryOptions : IValidatableObject
{
    public const string Section = "Telemetry";

    /// <summary>The standard variable; when set it wins over <see cref="OtlpEndpoint"/>.</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>An OTLP collector (gRPC, e.g. http://127.0.0.1:4317). Unset: traces are made but not exported.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary>How often gauges read from a database or the broker (active sandboxes, dead letters) are refreshed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "01:00:00")]
    public TimeSpan GaugeRefreshInterval { get; set; } = TimeSpan.FromSeconds(15);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (OtlpEndpoint is { Length: > 0 } endpoint &&
            (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")))
        {
            yield return new ValidationResult(
                "Telemetry:OtlpEndpoint must be an http:// or https:// URI (for example http://127.0.0.1:4317).", [nameof(OtlpEndpoint)]);
        }
    }
}
