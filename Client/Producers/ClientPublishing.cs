using System.Diagnostics;
using ExactlyOnce.Grains;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Hosting.Producers;
using ExactlyOnce.PostgreSql;
using Orleans.Runtime;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Client.Producers;

/// <summary>Publishing recorded client messages: the copies a sender makes, first sends and re-sends alike.</summary>
public static class ClientPublishing
{
    /// <summary>Environment switch for the crash tests: <c>after-record</c> kills this process between recording and publishing.</summary>
    public const string CrashVariable = "EXACTLYONCE_CLIENT_CRASH";

    /// <summary>Publishes the recorded copy to its stream.</summary>
    public static Task PublishAsync(IClusterClient client, ClientRecord record) =>
        PublishAsync(client, record.StreamNamespace, record.StreamKey, record.Message);

    /// <summary>Publishes a message to a stream of the durable provider.</summary>
    public static Task PublishAsync(IClusterClient client, string streamNamespace, string streamKey, IMessage message) =>
        client.PublishMessageAsync(OrleansNames.StreamProvider, streamNamespace, streamKey, message);

    /// <summary>The crash point between recording and publishing, when armed (a real SIGKILL of this process).</summary>
    public static void CrashIfArmed(string point)
    {
        if (Environment.GetEnvironmentVariable(CrashVariable) == point)
        {
            Console.Error.WriteLine($"client: crash point '{point}' armed, killing this process");
            Process.GetCurrentProcess().Kill();
        }
    }
}
