namespace Pipeline.Persistence.Deliveries;

/// <summary>Signature schemes an endpoint can ask for.</summary>
public static class SigningSchemes
{
    /// <summary><c>webhook-id</c>, <c>webhook-timestamp</c>, <c>webhook-signature: v1,&lt;base64&gt;</c> (standardwebhooks.com).</summary>
    public const string StandardWebhooks = "standard-webhooks";

    /// <summary>Seed 004: <c>X-Webhook-Signature: sha256=&lt;hex HMAC of the body&gt;</c> and its X-Webhook-* headers.</summary>
    public const string HmacSha256 = "hmac-sha256";

    public static readonly IReadOnlyList<string> All = [StandardWebhooks, HmacSha256];
}

/// <summary>A URL registered by an operator to receive signed POSTs of the event types it subscribes to.</summary>
public sealed class WebhookEndpoint
{
    public Guid Id { get; set; }
    public required string Url { get; set; }
    public string? Description { get; set; }

    /// <summary>JSON array of subscriptions: exact type names, <c>prefix.*</c> or <c>*</c>.</summary>
    public required string EventTypes { get; set; }

    /// <summary>The longest <see cref="Headers"/> (its column).</summary>
    public const int MaxHeadersLength = 8000;

    /// <summary>JSON object of extra request headers the receiver asked for.</summary>
    public string? Headers { get; set; }

    /// <summary>One of <see cref="SigningSchemes"/>.</summary>
    public required string Scheme { get; set; }

    /// <summary>At most this many sends a second to this endpoint (per replica); null: no limit.</summary>
    public int? RateLimitPerSecond { get; set; }

    public bool Enabled { get; set; }

    /// <summary>Why it was disabled (an operator, a 410 Gone, failing for too long).</summary>
    public string? DisabledReason { get; set; }

    public DateTime? DisabledAt { get; set; }

    /// <summary><c>whsec_</c> + Base64 of 32 random bytes. Never logged, returned only when created or rotated.</summary>
    public required string Secret { get; set; }

    /// <summary>The secret before the last rotation: it keeps signing beside the new one until <see cref="PreviousSecretExpiresAt"/>.</summary>
    public string? PreviousSecret { get; set; }

    public DateTime? PreviousSecretExpiresAt { get; set; }

    /// <summary>When a delivery to it last failed for good while none succeeded since (reset by any success).</summary>
    public DateTime? FailingSince { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
