using ExactlyOnce.Client.Chaos;
using ExactlyOnce.Faults;

namespace ExactlyOnce.Tests.Client;

/// <summary>The chaos runner counts crash faults from the line a silo writes as one kills it.</summary>
[Trait("Kind", "Unit")]
public sealed class ChaosCrashCountTests
{
    [Fact]
    public void Should_count_one_per_crashed_life_of_a_silo()
    {
        var id = Guid.NewGuid();
        var output = string.Join('\n',
            "silo started: 127.0.0.1:21000 gateway 21001 cluster c pid 10",
            $"{FaultInjector.CrashLinePrefix}after-commit in order for message {id}; killing process 10",
            "silo started: 127.0.0.1:21000 gateway 21001 cluster c pid 11",
            "12:00:00.000 warn: something mentioning silo: crash fault at in the middle of a line",
            $"{FaultInjector.CrashLinePrefix}after-commit in billing for message {id}; killing process 11",
            "silo started: 127.0.0.1:21000 gateway 21001 cluster c pid 12");

        Assert.Equal(2, ChaosRunner.CountCrashFaults(output));
        Assert.Equal(0, ChaosRunner.CountCrashFaults(""));
    }
}
