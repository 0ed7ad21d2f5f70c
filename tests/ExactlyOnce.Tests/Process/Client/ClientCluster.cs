namespace ExactlyOnce.Tests.Client;

/// <summary>One silo process (started with <paramref name="siloArgs"/>) and a fresh database, shared by the tests of a class.</summary>
public abstract class SiloFixture(string prefix, params IEnumerable<string> siloArgs) : IAsyncLifetime
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

/// <summary>The client command tests' silo, on the default settings with fault injection on (they arm faults).</summary>
public sealed class ClientCluster() : SiloFixture("cli", SiloProcess.FaultInjectionOn);

/// <summary>A silo on the default stream and messaging settings, what a user ships, with fault injection on (the tests arm faults).</summary>
public sealed class SequencedCluster() : SiloFixture("seq", SiloProcess.FaultInjectionOn);

/// <summary>A silo on every default, fault injection included (off).</summary>
public sealed class DefaultCluster() : SiloFixture("def");
