
namespace ExactlyOnce.Messaging;

/// <summary>
/// What a handler uses to send: it records outgoing messages (it never publishes them) and hands
/// out their deterministic ids. The incoming message's delivery mode is carried to them.
/// </summary>
public sealed class OutgoingMessages(string component, IMessage incoming)
{
    private readonly List<OutboxEntry> _entries = [];

    /// <summary>Delivery mode the outgoing messages must carry.</summary>
    public DeliveryMode Mode => incoming.Mode;

    /// <summary>Messages recorded so far, in order.</summary>
    public IReadOnlyList<OutboxEntry> Entries => _entries;

    /// <summary>
    /// Records a message for the stream (<paramref name="streamNamespace"/>, <paramref name="streamKey"/>):
    /// <paramref name="create"/> builds it with the id it is given, derived from the incoming message's
    /// id, so a handler run again after a crash sends the same ids.
    /// </summary>
    public void Send<T>(string streamNamespace, string streamKey, Func<Guid, T> create) where T : IMessage =>
        Send(streamNamespace, streamKey, (id, _) => create(id));

    /// <summary>As <see cref="Send{T}(string, string, Func{Guid, T})"/>, for messages that carry the incoming message's <see cref="Mode"/> (comparison workloads).</summary>
    public void Send<T>(string streamNamespace, string streamKey, Func<Guid, DeliveryMode, T> create) where T : IMessage
    {
        var id = MessageIds.Derive(incoming.MessageId, component, _entries.Count);
        var message = create(id, incoming.Mode);
        if (message.MessageId != id)
        {
            throw new InvalidOperationException($"{component} must send with the id it was given ({id}), not {message.MessageId}.");
        }

        _entries.Add(new OutboxEntry(id, incoming.MessageId, streamNamespace, streamKey, message));
    }
}
