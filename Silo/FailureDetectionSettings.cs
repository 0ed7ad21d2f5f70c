using ExactlyOnce.Hosting;
using Microsoft.Extensions.Configuration;
using Orleans.Configuration;

namespace ExactlyOnce.Silo;

/// <summary>
/// How fast silos declare a crashed peer dead. Section <c>FailureDetection</c>. The defaults make a
/// silo killed with kill -9 be declared dead within about 10 s on a local cluster; Orleans' own
/// defaults (meant for cloud networks) take about a minute.
/// </summary>
public sealed class FailureDetectionSettings
{
    /// <summary>The section <c>FailureDetection</c> for <see cref="ConfigurationKeys"/>.</summary>
    public static SettingsSection Section { get; } = new("FailureDetection", typeof(FailureDetectionSettings));

    /// <summary>Time a probe may take before it counts as missed. Default: 1 s (Orleans: 5 s).</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Missed probes before a silo votes its peer suspect. Default: 3.</summary>
    public int MissedProbesLimit { get; set; } = 3;

    /// <summary>Votes needed to declare a silo dead (fewer if fewer silos are alive). Default: 2.</summary>
    public int VotesForDeathDeclaration { get; set; } = 2;

    /// <summary>How often each silo re-reads the membership table. Default: 5 s (Orleans: 60 s).</summary>
    public TimeSpan TableRefreshTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Heartbeat written to the membership table. Default: 10 s (Orleans: 30 s).</summary>
    public TimeSpan IAmAlivePublishPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Reads and validates the section.</summary>
    public static FailureDetectionSettings From(IConfiguration configuration)
    {
        var settings = new FailureDetectionSettings();
        try
        {
            configuration.GetSection("FailureDetection").Bind(settings);
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException($"FailureDetection: {ex.InnerException?.Message ?? ex.Message}", ex);
        }

        if (settings.ProbeTimeout <= TimeSpan.Zero)
        {
            throw new ConfigurationException($"FailureDetection:{nameof(ProbeTimeout)} must be positive.");
        }

        if (settings.MissedProbesLimit < 1 || settings.VotesForDeathDeclaration < 1)
        {
            throw new ConfigurationException($"FailureDetection:{nameof(MissedProbesLimit)} and {nameof(VotesForDeathDeclaration)} must be at least 1.");
        }

        return settings;
    }

    /// <summary>Copies the settings onto Orleans' membership options.</summary>
    public void ApplyTo(ClusterMembershipOptions options)
    {
        options.ProbeTimeout = ProbeTimeout;
        options.NumMissedProbesLimit = MissedProbesLimit;
        options.NumVotesForDeathDeclaration = VotesForDeathDeclaration;
        options.TableRefreshTimeout = TableRefreshTimeout;
        options.IAmAliveTablePublishTimeout = IAmAlivePublishPeriod;
    }
}
