namespace Pipeline.Persistence.Deliveries;

/// <summary>One HTTP attempt of a delivery, successful or not.</summary>
public sealed class DeliveryAttempt
{
    public const int MaxResponseBodyChars = 4096;
    public const int MaxErrorChars = 2000;

    public Guid Id { get; set; }
    public Guid DeliveryId { get; set; }
    public Guid EndpointId { get; set; }

    /// <summary>1 for the first attempt of the delivery, 2 for the next, …</summary>
    public int Number { get; set; }

    public DateTime StartedAt { get; set; }
    public double DurationMs { get; set; }

    /// <summary>The receiver's status code; null when no response came (timeout, refused, connection error).</summary>
    public int? StatusCode { get; set; }

    public bool Succeeded { get; set; }

    /// <summary>The start of the response body (at most 4 KiB are read).</summary>
    public string? ResponseBody { get; set; }

    public string? Error { get; set; }
}
