using MassTransit;

namespace Pipeline.Consumers.Credits;

/// <summary>The Credits service on one screen: its tables, its consumers, its API.</summary>
public static class CreditsExtensions
{
    public static WebApplicationBuilder AddCredits(this WebApplicationBuilder builder) => builder;

    public static void AddCreditConsumers(this IBusRegistrationConfigurator bus)
    {
    }

    public static WebApplication MapCredits(this WebApplication app) => app;

    public static Task PrepareCreditsAsync(this WebApplication app) => Task.CompletedTask;
}
