
namespace ExactlyOnce.Messaging;

/// <summary>
/// The business logic of one component: all a component writes. Everything protocol-related
/// (dedup, outbox, ids, dispatch, modes, faults) is the core's. Implementations must be
/// deterministic: no clock, random or new ids inside <see cref="Handle"/>.
/// </summary>
public interface IComponentLogic<TData, in TMessage> where TData : class, new() where TMessage : IMessage
{
    /// <summary>Name of the component; part of every outgoing message id, so never change it.</summary>
    string Component { get; }

    /// <summary>Stream namespace the component consumes (key = grain key); its first input stream.</summary>
    string StreamNamespace { get; }

    /// <summary>
    /// Every stream namespace the component consumes, <see cref="StreamNamespace"/> first; by default
    /// that one alone. The grain needs an <c>[ImplicitStreamSubscription]</c> for each, and its key is
    /// the stream key on every one. A producer numbers its messages per destination stream, so the
    /// core keeps each producer's progress per input stream: what one producer sends on two inputs
    /// is applied exactly once and in send order within each stream, with no order between the streams.
    /// </summary>
    IReadOnlyList<string> InputStreams => [StreamNamespace];

    /// <summary>
    /// Stream namespaces the component sends to whose messages it numbers (producer id + sequence per
    /// destination stream), so receivers apply them exactly once and in send order. The state keeps
    /// one counter per destination stream used, so declare only namespaces with a bounded set of
    /// keys per sender; messages to other namespaces go unsequenced (fallback dedup).
    /// </summary>
    IReadOnlySet<string> OutputStreams { get; }

    /// <summary>A deep copy of the data, for the handler to change freely.</summary>
    TData Clone(TData data);

    /// <summary>Why the message cannot be processed (it goes to the dead letters), or null when it is valid.</summary>
    string? Validate(TMessage message, string streamKey);

    /// <summary>The new data for (data, message); outgoing messages are recorded in <paramref name="outgoing"/>.</summary>
    TData Handle(TData data, TMessage message, OutgoingMessages outgoing);
}
