using Npgsql;
using Pipeline.Persistence;

namespace Pipeline.UnitTests.Persistence;

/// <summary>PostgreSQL connection strings prepare repeated statements and skip the reset on close, unless they say otherwise.</summary>
public class ServiceConnectionStringTests
{
    [Fact]
    public void A_connection_string_without_the_setting_gets_the_default()
    {
        var result = new NpgsqlConnectionStringBuilder(
            PersistenceRegistration.WithServiceDefaults("Host=127.0.0.1;Port=5432;Username=pipeline;Database=ingress"));

        Assert.Equal(PersistenceRegistration.DefaultMaxAutoPrepare, result.MaxAutoPrepare);
        Assert.Equal("-c plan_cache_mode=force_custom_plan", result.Options);
        Assert.True(result.NoResetOnClose);
        Assert.Equal("ingress", result.Database);
        Assert.Equal(5432, result.Port);
    }

    [Fact]
    public void Options_of_its_own_are_kept_beside_the_custom_plans()
    {
        var result = new NpgsqlConnectionStringBuilder(
            PersistenceRegistration.WithServiceDefaults("Host=127.0.0.1;Options=-c statement_timeout=5000"));

        Assert.Equal("-c statement_timeout=5000 -c plan_cache_mode=force_custom_plan", result.Options);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Max Auto Prepare=0", 0)]
    [InlineData("Host=127.0.0.1;max auto prepare=20", 20)]
    [InlineData("Host=127.0.0.1;MaxAutoPrepare=0", 0)]
    public void A_setting_of_its_own_is_kept(string connectionString, int expected)
    {
        var result = new NpgsqlConnectionStringBuilder(PersistenceRegistration.WithServiceDefaults(connectionString));

        Assert.Equal(expected, result.MaxAutoPrepare);
        Assert.True(result.NoResetOnClose);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;No Reset On Close=false")]
    [InlineData("Host=127.0.0.1;noresetonclose=False")]
    public void A_reset_asked_for_is_kept(string connectionString)
    {
        var result = new NpgsqlConnectionStringBuilder(PersistenceRegistration.WithServiceDefaults(connectionString));

        Assert.False(result.NoResetOnClose);
        Assert.Equal(PersistenceRegistration.DefaultMaxAutoPrepare, result.MaxAutoPrepare);
    }
}
