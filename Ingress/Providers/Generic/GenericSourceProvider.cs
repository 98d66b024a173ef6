using Pipeline.Ingress.Webhooks;

namespace Pipeline.Ingress.Providers.Generic;

/// <summary>One configured source as a provider: its scheme's checks and <see cref="GenericEventNormalizer"/>.</summary>
public sealed class GenericSourceProvider(GenericSource source, TimeProvider clock) : IWebhookProvider
{
    public string Name => source.Name;

    /// <summary>None of its own: every source is answered at <c>POST /webhooks/{name}</c>.</summary>
    public IReadOnlyList<string> Routes => [];

    public IReadOnlyList<string> KeptHeaders { get; } = source.KeptHeaders;
    public int? MaxBodyBytes => source.MaxBodyBytes;
    public string? MissingSetting => source.IsEnabled ? null : $"{GenericSourcesOptions.Section}:{source.Name}:Secrets";

    private readonly Func<string?, bool> _acceptsContentType = SourceSchemes.AcceptsContentType(source.Scheme);

    public bool AcceptsContentType(string? contentType) => _acceptsContentType(contentType);

    public ValueTask<VerificationResult> VerifyAsync(byte[] body, HttpRequest request) =>
        ValueTask.FromResult(GenericSourceVerifier.Verify(source, body, request, clock.GetUtcNow()));

    public WebhookNormalization Normalize(byte[] body, Guid receiptId, HttpRequest request)
    {
        var normalized = WebhookNormalization.Of(
            GenericEventNormalizer.Normalize(source, body, request.Headers, receiptId, clock.GetUtcNow()), m => Describe(m.EventType));
        var challenge = source.Scheme == SourceSchemes.Slack && normalized.Messages is [Messages.Webhooks.WebhookReceivedV1 { EventType: "url_verification" }]
            ? GenericEventNormalizer.SlackChallenge(body)
            : null;
        return challenge is null ? normalized : normalized with { Respond = (_, _) => Results.Ok(new { challenge }) };
    }

    // The event type is the sender's text: cut short, and only printable ASCII, before it reaches a log line.
    private static string Describe(string? eventType)
    {
        if (string.IsNullOrEmpty(eventType))
        {
            return "delivery";
        }

        var cut = eventType.Length > 64 ? eventType[..64] : eventType;
        return string.Create(cut.Length, cut, (span, text) =>
        {
            for (var i = 0; i < text.Length; i++)
            {
                span[i] = text[i] is >= ' ' and <= '~' ? text[i] : '?';
            }
        });
    }
}
