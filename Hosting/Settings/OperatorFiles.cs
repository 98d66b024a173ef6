using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.FileProviders.Physical;

namespace Pipeline.Hosting.Settings;

/// <summary>
/// Configuration an operator can change under a running service, on top of appsettings.json, environment variables
/// and the command line: a key-per-file secrets directory (a mounted Kubernetes Secret) and an extra JSON settings
/// file. Both are watched and reloaded; what reads them through <c>IOptionsMonitor</c> sees a change without a restart.
/// </summary>
public static class OperatorFiles
{
    public const string SecretsDirectoryKey = "Secrets:Directory";
    public const string SecretsDirectoryVariable = "PIPELINE_SECRETS_DIR";
    public const string SettingsFileKey = "Settings:File";
    public const string SettingsFileVariable = "PIPELINE_SETTINGS_FILE";

    /// <summary>
    /// Adds the settings file, then the secrets directory, after every default source: a value in either wins over
    /// the same key in appsettings.json, the environment or the command line. A path that is named but missing stops
    /// start-up with a message naming the setting.
    /// </summary>
    public static IConfigurationManager AddOperatorFiles(this IConfigurationManager configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var settingsFile = Named(configuration, SettingsFileVariable, SettingsFileKey);
        var secretsDirectory = Named(configuration, SecretsDirectoryVariable, SecretsDirectoryKey);

        if (settingsFile is not null)
        {
            var path = Path.GetFullPath(settingsFile);
            if (!File.Exists(path))
            {
                throw new InvalidOperationException(
                    $"{SettingsFileVariable} / {SettingsFileKey} names the settings file '{path}', which does not exist.");
            }

            configuration.AddJsonFile(new PhysicalFileProvider(Path.GetDirectoryName(path)!, ExclusionFilters.None),
                Path.GetFileName(path), optional: false, reloadOnChange: true);
        }

        if (secretsDirectory is not null)
        {
            var path = Path.GetFullPath(secretsDirectory);
            if (!Directory.Exists(path))
            {
                throw new InvalidOperationException(
                    $"{SecretsDirectoryVariable} / {SecretsDirectoryKey} names the secrets directory '{path}', which does not exist.");
            }

            configuration.AddKeyPerFile(source =>
            {
                // Kubernetes updates a Secret volume by re-pointing its "..data" link, so dot-prefixed entries are
                // watched (no exclusion filter) but never read as keys; "ignore." is KeyPerFile's own convention.
                source.FileProvider = new PhysicalFileProvider(path, ExclusionFilters.None);
                source.IgnoreCondition = name => name.StartsWith('.') || name.StartsWith("ignore.", StringComparison.Ordinal);
                source.Optional = false;
                source.ReloadOnChange = true;
            });
        }

        return configuration;
    }

    private static string? Named(IConfiguration configuration, string variable, string key)
    {
        var value = configuration[variable];
        if (string.IsNullOrWhiteSpace(value))
        {
            value = configuration[key];
        }

        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }
}
