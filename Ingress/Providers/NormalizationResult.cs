namespace Pipeline.Ingress.Providers;

/// <summary>A normalized message with the key that makes a repeated delivery a no-op, or why the body is malformed.</summary>
public readonly record struct NormalizationResult<T>(T? Value, string DedupKey, string? Error) where T : class
{
    public bool IsValid => Value is not null;
    public static NormalizationResult<T> Ok(T value, string dedupKey) => new(value, dedupKey, null);
    public static NormalizationResult<T> Malformed(string error) => new(null, "", error);
}
