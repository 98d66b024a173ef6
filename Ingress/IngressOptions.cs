using System.ComponentModel.DataAnnotations;

namespace Pipeline.Ingress;

/// <summary>The <c>Ingress</c> section.</summary>
public sealed class IngressOptions
{
    public const string Section = "Ingress";

    /// <summary>Bodies larger than this are refused with 413 before they are read in full.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxBodyBytes { get; set; } = 256 * 1024;
}
