using ExactlyOnce.Messaging;

namespace ExactlyOnce.Tests.Core;

/// <summary>The fault kit of the property tests: random throws and simulated crashes at any fault point, switchable off.</summary>
public sealed class SimulatedFaults(Random rng, double probability, bool crashes)
{
    public bool On { get; set; } = true;

    /// <summary>For <see cref="FakeFaults.Decide"/>: null (no fault), a throw, or (when crashes are on) a crash.</summary>
    public Exception? Decide(string point, string component, Guid messageId)
    {
        if (!On || rng.NextDouble() >= probability)
        {
            return null;
        }

        return crashes && rng.Next(2) == 0 ? new SimulatedCrash() : new SimulatedFaultException(point, component, messageId);
    }

    /// <summary>
    /// The process dies at this point: memory is lost, storage is not. Modelled as a fatal error
    /// (out of memory), which the processor never retries, delays or dead-letters: nothing runs after it.
    /// </summary>
    public sealed class SimulatedCrash : OutOfMemoryException;
}
