using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Bulwark.Client.Hosting;

/// <summary>Registers Bulwark's client and leader election with Microsoft.Extensions.DependencyInjection.</summary>
public static class BulwarkHostingServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="BulwarkClient"/> for the application (a singleton: it holds the channels and the
    /// endpoints' health), configured from <see cref="IOptions{BulwarkClientOptions}"/>. <paramref name="configure"/>
    /// runs after any configuration binding (<c>services.AddOptions&lt;BulwarkClientOptions&gt;().Bind(section)</c>).
    /// </summary>
    public static IServiceCollection AddBulwarkClient(this IServiceCollection services, Action<BulwarkClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<BulwarkClientOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        services.TryAddSingleton(provider => new BulwarkClient(
            provider.GetRequiredService<IOptions<BulwarkClientOptions>>().Value,
            provider.GetService<ILoggerFactory>()));
        return services;
    }

    /// <summary>
    /// Registers the <see cref="LeaderElectionOptions"/> every <see cref="LeaderBackgroundService"/> of the application
    /// campaigns with. Register the service itself with <c>services.AddHostedService&lt;T&gt;()</c> (or as a singleton
    /// plus a hosted-service forwarder when endpoints need it too) and the client with <see cref="AddBulwarkClient"/>.
    /// The options are validated when the service is created (<see cref="LeaderElectionOptions.Validate"/>): a missing
    /// <see cref="LeaderElectionOptions.ElectionName"/> or a TTL under 1 s fails at start, not at the first campaign.
    /// </summary>
    public static IServiceCollection AddBulwarkLeaderElection(this IServiceCollection services, Action<LeaderElectionOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var builder = services.AddOptions<LeaderElectionOptions>();
        if (configure is not null)
        {
            builder.Configure(configure);
        }

        return services;
    }
}
