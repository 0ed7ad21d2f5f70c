namespace ExactlyOnce.Tests.Client;

/// <summary>One silo process (started with <paramref name="siloArgs"/>) and a fresh database, shared by the tests of a class.</summary>
public abstract class SiloFixture(string prefix, params string[] siloArgs) : IAsyncLifetime
{
    public TestDatabase Db { get; private set; } = null!;

    public SiloProcess Silo { get; private set; } = null!;

    public string ClusterId { get; } = $"{prefix}-{Guid.NewGuid():N}"[..12];

    public ClientProcess Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestDatabase.CreateAsync(prefix);
        Silo = SiloProcess.Start(Db.ConnectionString, ClusterId, siloArgs);
        await Silo.WaitStartedAsync(TimeSpan.FromSeconds(60));
        Client = new ClientProcess(Db.ConnectionString, ClusterId);
    }

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        await Db.DisposeAsync();
    }
}

/// <summary>
/// The client command tests' silo: few attempts and short delivery times, so that poison messages
/// reach the dead letters quickly.
/// </summary>
public sealed class ClientCluster() : SiloFixture(
    "cli", "--Streams:MaxAttempts", "2", "--Streams:MaxEventDeliveryTime", "00:00:03", "--Streams:VisibilityTimeout", "00:00:10");

/// <summary>A silo on the default stream and messaging settings: what a user ships.</summary>
public sealed class SequencedCluster() : SiloFixture("seq");
