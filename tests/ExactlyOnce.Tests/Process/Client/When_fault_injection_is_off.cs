namespace ExactlyOnce.Tests.Client;

/// <summary>
/// Fault injection is off in a silo shipped as is: no client can arm a fault, and a cluster that
/// takes faults still refuses crash rules unless its silos allow them.
/// </summary>
[Trait("Category", "Integration")]
[Trait("Kind", "Process")]
public sealed class When_fault_injection_is_off(DefaultCluster cluster) : IClassFixture<DefaultCluster>
{
    [Fact]
    public async Task Should_refuse_every_fault_rule_with_one_line_and_exit_2_and_leave_the_rules_unset()
    {
        foreach (var args in new[] { new[] { "faults", "set", "before-commit=1:throw" }, ["faults", "clear"], ["demo", "--orders", "1", "--items", "1"] })
        {
            var refused = await cluster.Client.RunAsync(args);
            Assert.True(refused.ExitCode == 2, $"{string.Join(' ', args)}: {refused}");
            Assert.Equal("client: fault injection is off on this cluster (its silos run without FaultInjection:Enabled=true)", refused.Stderr.Trim());
        }

        var show = await cluster.Client.OkJsonAsync("faults", "show");
        Assert.Equal(0, show.GetProperty("version").GetInt32());
        Assert.DoesNotContain("fault injection", cluster.Silo.Output);
    }

    [Fact]
    public async Task Should_refuse_crash_rules_where_only_fault_injection_is_on()
    {
        var clusterId = $"noc-{Guid.NewGuid():N}"[..12];
        await using var silo = SiloProcess.Start(cluster.Db.ConnectionString, clusterId, "--FaultInjection:Enabled", "true");
        await silo.WaitStartedAsync(TimeSpan.FromSeconds(60));
        var client = new ClientProcess(cluster.Db.ConnectionString, clusterId);
        Assert.Contains("fault injection ON", silo.Output);

        var crash = await client.RunAsync("faults", "set", "after-commit=1:crash");
        Assert.True(crash.ExitCode == 2, crash.ToString());
        Assert.Equal("client: crash faults are refused on this cluster (its silos run without FaultInjection:AllowCrash=true)", crash.Stderr.Trim());

        var thrown = await client.OkJsonAsync("faults", "set", "after-commit=0.5:throw");
        Assert.Equal("after-commit=0.5:throw", thrown.GetProperty("rules")[0].GetString());
        await client.OkJsonAsync("faults", "clear");
    }
}
