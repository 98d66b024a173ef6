using System.ComponentModel.DataAnnotations;

namespace Pipeline.Hosting.Bus;

public enum BusTransport
{
    RabbitMq,

    /// <summary>For the embedded demo only: not durable, a crash loses what it holds.</summary>
    InMemory,
}

/// <summary>The <c>Bus</c> section.</summary>
public sealed class BusOptions : IValidatableObject
{
    public const string Section = "Bus";

    public BusTransport Transport { get; set; } = BusTransport.RabbitMq;

    /// <summary>amqp://user:password@host:port/vhost</summary>
    public string? RabbitMq { get; set; }

    /// <summary>The RabbitMQ management API (for dead-letter operations); default: the broker's host, port 15672.</summary>
    public string? RabbitMqManagement { get; set; }

    /// <summary>Messages a consumer endpoint works on at once.</summary>
    [Range(1, 1024)]
    public int PrefetchCount { get; set; } = 32;

    public Uri ManagementUri() => RabbitMqManagement is { Length: > 0 } m
        ? new Uri(m)
        : new Uri($"http://{new Uri(RabbitMq!).Host}:15672/");

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Transport != BusTransport.RabbitMq)
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(RabbitMq) || !Uri.TryCreate(RabbitMq, UriKind.Absolute, out var uri) ||
            (uri.Scheme != "amqp" && uri.Scheme != "amqps"))
        {
            yield return new ValidationResult(
                "Bus:RabbitMq must be an amqp:// or amqps:// URI (for example amqp://guest:guest@127.0.0.1:5672/).",
                [nameof(RabbitMq)]);
        }
    }
}
