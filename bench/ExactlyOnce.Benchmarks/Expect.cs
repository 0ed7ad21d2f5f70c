using ExactlyOnce.Messaging;

namespace ExactlyOnce.Benchmarks;

/// <summary>Checks a benchmark's setup: a benchmark that took another path than its name says would measure the wrong thing.</summary>
public static class Expect
{
    public static void Outcome(ProcessOutcome expected, Task<ProcessOutcome> run)
    {
        // Every port completes synchronously, so the processor does too.
        if (!run.IsCompleted)
        {
            throw new InvalidOperationException("the processor did not complete synchronously on in-memory ports");
        }

        var actual = run.GetAwaiter().GetResult();
        That(actual == expected, $"outcome {expected}, got {actual}");
    }

    public static void That(bool condition, string what)
    {
        if (!condition)
        {
            throw new InvalidOperationException($"benchmark setup check failed: {what}");
        }
    }
}
