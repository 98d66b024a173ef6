using Microsoft.Extensions.Options;

namespace Pipeline.Consumers.Credits;

/// <summary>
/// <c>Credits</c>. Balances are in credits; new-api reports quota units, <see cref="QuotaPerCredit"/> of which make
/// one credit (new-api: 500,000 quota = 1 USD, so by default 1 credit = 1 USD). The admin key (top-ups) comes from
/// <c>Credits:AdminApiKey</c>, <c>ADMIN_API_KEY</c> or the <c>Credits:AdminApiKeys</c> list (rotation).
/// </summary>
public sealed class CreditsOptions
{
    public const string Section = "Credits";
    public const string AdminKeyVariable = "ADMIN_API_KEY";
    public const int MinimumAdminKeyLength = 16;

    public decimal QuotaPerCredit { get; set; } = 500_000m;

    /// <summary>The first usage of a user nobody has topped up yet opens an account at 0 (and takes it negative).</summary>
    public bool CreateUnknownAccounts { get; set; } = true;

    /// <summary>
    /// true: a usage is deducted in full and the balance may go negative. false: the balance stops at zero and the part
    /// of a usage it did not cover is recorded on the ledger entry as uncovered (the call already happened) and counted.
    /// </summary>
    public bool AllowNegative { get; set; } = true;

    /// <summary>A deduction that takes a balance from above this to at or below it publishes <c>CreditBalanceLowV1</c>.</summary>
    public decimal LowBalanceThreshold { get; set; } = 1.0m;

    /// <summary>Entries of the per-message log (<c>/api/webhook-logs</c>) are deleted after this long; the ledger never is.</summary>
    public TimeSpan WebhookLogRetention { get; set; } = TimeSpan.FromDays(30);

    public static readonly TimeSpan MinWebhookLogRetention = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan MaxWebhookLogRetention = TimeSpan.FromDays(3650);

    public string? AdminApiKey { get; set; }

    /// <summary>Every accepted admin key: <see cref="AdminApiKey"/> and <c>ADMIN_API_KEY</c> are added here.</summary>
    public List<string> AdminApiKeys { get; set; } = [];
}

public sealed class CreditsOptionsSetup(IConfiguration configuration) : IPostConfigureOptions<CreditsOptions>, IValidateOptions<CreditsOptions>
{
    public void PostConfigure(string? name, CreditsOptions options)
    {
        foreach (var key in new[] { options.AdminApiKey, configuration[CreditsOptions.AdminKeyVariable] })
        {
            if (!string.IsNullOrWhiteSpace(key) && !options.AdminApiKeys.Contains(key))
            {
                options.AdminApiKeys.Add(key);
            }
        }

        options.AdminApiKeys.RemoveAll(string.IsNullOrWhiteSpace);
    }

    public ValidateOptionsResult Validate(string? name, CreditsOptions options)
    {
        var failures = new List<string>();
        if (options.QuotaPerCredit <= 0)
        {
            failures.Add($"{CreditsOptions.Section}:{nameof(CreditsOptions.QuotaPerCredit)} must be greater than 0 (new-api: 500000 quota = 1 USD).");
        }

        if (options.LowBalanceThreshold < 0)
        {
            failures.Add($"{CreditsOptions.Section}:{nameof(CreditsOptions.LowBalanceThreshold)} must be 0 or more.");
        }

        if (options.WebhookLogRetention < CreditsOptions.MinWebhookLogRetention || options.WebhookLogRetention > CreditsOptions.MaxWebhookLogRetention)
        {
            failures.Add($"{CreditsOptions.Section}:{nameof(CreditsOptions.WebhookLogRetention)} must be between " +
                $"{CreditsOptions.MinWebhookLogRetention:c} and {CreditsOptions.MaxWebhookLogRetention:c} (it is {options.WebhookLogRetention:c}).");
        }

        var weak = options.AdminApiKeys.Count(k => k.Length < CreditsOptions.MinimumAdminKeyLength);
        if (weak > 0)
        {
            failures.Add(
                $"{weak} admin key(s) in {CreditsOptions.Section}:{nameof(CreditsOptions.AdminApiKey)} / {CreditsOptions.Section}:{nameof(CreditsOptions.AdminApiKeys)} / " +
                $"{CreditsOptions.AdminKeyVariable} are shorter than {CreditsOptions.MinimumAdminKeyLength} characters.");
        }

        return failures.Count > 0 ? ValidateOptionsResult.Fail(failures) : ValidateOptionsResult.Success;
    }
}
