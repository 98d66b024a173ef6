namespace Pipeline.Hosting.Bus;

/// <summary>
/// Where the RabbitMQ management API (dead-letter operations) is reached. It is sent the broker's credentials on every
/// request, so it is reached over TLS whenever the broker is: a broker at <c>amqps://</c> means <c>https://</c>.
/// </summary>
public static class ManagementApi
{
    /// <summary>RabbitMQ's conventional management listener ports.</summary>
    public const int HttpPort = 15672;

    public const int HttpsPort = 15671;

    /// <summary>The broker's host: <c>https://host:15671/</c> for <c>amqps://</c>, <c>http://host:15672/</c> for <c>amqp://</c>.</summary>
    public static Uri DefaultFor(Uri broker) => broker.Scheme == "amqps"
        ? new UriBuilder(Uri.UriSchemeHttps, broker.Host, HttpsPort).Uri
        : new UriBuilder(Uri.UriSchemeHttp, broker.Host, HttpPort).Uri;

    /// <summary>Why <paramref name="configured"/> cannot be the management API of <paramref name="broker"/>, or null when it can (or is unset).</summary>
    /// <param name="setting">The setting's name, for the message.</param>
    public static string? Problem(Uri broker, string? configured, string setting)
    {
        if (string.IsNullOrEmpty(configured))
        {
            return null;
        }

        // The value is not quoted back: it may carry credentials.
        if (!Uri.TryCreate(configured, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return $"{setting} must be an absolute http:// or https:// URI of the RabbitMQ management API (for example https://rabbitmq:{HttpsPort}/).";
        }

        return broker.Scheme == "amqps" && uri.Scheme != Uri.UriSchemeHttps
            ? $"{setting} must be https:// when the broker is amqps://: the management API is sent the broker's credentials. " +
              $"Leave it unset for https://{broker.Host}:{HttpsPort}/."
            : null;
    }

    /// <summary>The configured management URI, or the default for the broker when unset.</summary>
    /// <exception cref="ArgumentException">The configured URI cannot be used (<see cref="Problem"/>).</exception>
    public static Uri Resolve(Uri broker, string? configured, string setting) =>
        Problem(broker, configured, setting) is { } problem ? throw new ArgumentException(problem)
        : string.IsNullOrEmpty(configured) ? DefaultFor(broker)
        : new Uri(configured);
}
