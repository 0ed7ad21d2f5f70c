namespace ExactlyOnce;

/// <summary>The provider names the library uses unless configured otherwise.</summary>
public static class ExactlyOnceNames
{
    /// <summary>The durable stream provider components consume and publish on. Default of <see cref="Messaging.MessagingOptions.StreamProvider"/>.</summary>
    public const string StreamProvider = "durable";

    /// <summary>The grain storage of the library's own grains (the fault-injection control grain).</summary>
    public const string GrainStorage = "postgres";
}
