using System.Buffers;
using Microsoft.Net.Http.Headers;

namespace Pipeline.Ingress.Webhooks;

/// <summary>Reads the raw request body exactly once, refusing it as soon as it passes the size limit.</summary>
public static class WebhookBody
{
    /// <returns>The body, or null when it is larger than <paramref name="maxBytes"/>.</returns>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (buffer.Length > maxBytes)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                return null;
            }

            if (result.IsCanceled)
            {
                throw new OperationCanceledException("Reading the request body was cancelled.");
            }

            if (result.IsCompleted)
            {
                var body = buffer.ToArray();
                reader.AdvanceTo(buffer.End);
                return body;
            }

            reader.AdvanceTo(buffer.Start, buffer.End); // wait for more without consuming
        }
    }

    /// <summary>application/json, any application/*+json, or no Content-Type at all.</summary>
    public static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType))
        {
            return true;
        }

        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || media.MediaType.Value is not { } type)
        {
            return false;
        }

        return type.Equals("application/json", StringComparison.OrdinalIgnoreCase) ||
               (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) &&
                type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }
}
