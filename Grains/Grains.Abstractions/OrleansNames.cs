namespace ExactlyOnce.Grains;

/// <summary>Names of providers and stream namespaces: the only place they are spelled.</summary>
public static class OrleansNames
{
    /// <summary>The durable (ADO.NET on PostgreSQL) stream provider, on silos and clients.</summary>
    public const string StreamProvider = ExactlyOnceNames.StreamProvider;

    /// <summary>The ADO.NET grain storage every grain of this project uses.</summary>
    public const string GrainStorage = ExactlyOnceNames.GrainStorage;
}

/// <summary>Stream namespaces. A stream id is (namespace, key).</summary>
public static class StreamNamespaces
{
    /// <summary>Q_A of the design: commands to orders, key = order id.</summary>
    public const string Orders = "orders";

    /// <summary>Q_B of the design: events to billing, key = order id.</summary>
    public const string Billing = "billing";

    /// <summary>Infrastructure self-test stream used by the probe grain and the tests.</summary>
    public const string Probe = "probe";
}
