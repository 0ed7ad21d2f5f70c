using ExactlyOnce.Grains.Messages;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Streams;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Client.Commands;

/// <summary>What a stream dead letter holds: the stream and the message, when the payload can be read.</summary>
public sealed record DecodedDeadLetter(string StreamNamespace, string StreamKey, IMessage? Message);

/// <summary>
/// Reads the payload of the ADO.NET stream provider's dead letters. The provider stores its batch
/// container (an internal type, <c>Orleans.Streaming.AdoNet.AdoNetBatchContainer</c>) in Orleans'
/// binary form, serialized as that exact type, so it is read back as that type, found by name; if
/// a provider version renames it, the payload is shown as unreadable, nothing else breaks.
/// </summary>
public static class StreamDeadLetterPayloads
{
    private static readonly Type? ContainerType = typeof(Orleans.Configuration.AdoNetStreamOptions).Assembly
        .GetType("Orleans.Streaming.AdoNet.AdoNetBatchContainer");

    private static readonly System.Reflection.MethodInfo? DeserializeMethod = typeof(Serializer).GetMethods()
        .FirstOrDefault(m => m.Name == nameof(Serializer.Deserialize) && m.IsGenericMethodDefinition
            && m.GetParameters() is [{ ParameterType: var p }] && p == typeof(byte[]));

    public static DecodedDeadLetter? Decode(byte[] payload, Serializer serializer)
    {
        if (ContainerType is null || DeserializeMethod is null || payload.Length == 0)
        {
            return null;
        }

        try
        {
            if (DeserializeMethod.MakeGenericMethod(ContainerType).Invoke(serializer, [payload]) is not IBatchContainer container)
            {
                return null;
            }

            // GetEvents needs the sequence token the provider adds when it reads a row; the events
            // themselves are the container's Events list.
            var events = ContainerType.GetProperty("Events")?.GetValue(container) as IEnumerable<object>;
            var message = events?.OfType<IMessage>().FirstOrDefault();
            var key = container.StreamId.GetKeyAsString();
            return new DecodedDeadLetter(container.StreamId.GetNamespace() ?? "", key, message);
        }
        catch (Exception ex) when (ex is System.Reflection.TargetInvocationException or InvalidCastException or NotSupportedException or InvalidOperationException)
        {
            // Not a payload this version can read: shown as unreadable.
            return null;
        }
    }
}
