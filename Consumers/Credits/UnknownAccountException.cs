namespace Pipeline.Consumers.Credits;

/// <summary>
/// Usage for a user with no account while <c>Credits:CreateUnknownAccounts</c> is false. Not retried: the message
/// goes to credits-usage_error, to be replayed once the account exists (a top-up opens it).
/// </summary>
public sealed class UnknownAccountException(string userId)
    : Exception($"No credit account for user {userId} and Credits:CreateUnknownAccounts is false.")
{
    public string UserId { get; } = userId;
}
