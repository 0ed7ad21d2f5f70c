using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using ExactlyOnce.Benchmarks;

// `check`: every benchmark's setup and its checks, once per parameter combination, without measuring.
if (args is ["check"])
{
    return SetupCheck.Run();
}

// The benchmarks run in a project BenchmarkDotNet generates and builds; on a busy 2-core machine
// that build takes longer than its default timeout of 2 minutes.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(15)));
return 0;
