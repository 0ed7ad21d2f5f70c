namespace ExactlyOnce.Messaging;

/// <summary>
/// A producer numbers its messages per destination stream, so a component that consumes several
/// input streams keeps a producer's progress (mark, held, parked) per input stream: one channel per
/// (producer, input). On the component's first input (<see cref="IComponentLogic{TData, TMessage}.StreamNamespace"/>)
/// the channel is the producer id itself, so a component that gains inputs keeps the meaning of
/// what it stored; on another input it is <c>producerId@input</c>, the input escaped so that it
/// holds neither '@' nor '/'. An arriving message is renamed to its channel before anything else
/// sees it: it is held, parked, dead-lettered and replayed under that name.
/// </summary>
internal sealed class InputChannels
{
    private readonly string[] _qualifiers;

    /// <summary>The inputs of one component; the first is its primary input.</summary>
    public InputChannels(IReadOnlyList<string> inputs)
    {
        if (inputs.Count == 0)
        {
            throw new ArgumentException("a component consumes at least one stream", nameof(inputs));
        }

        Inputs = inputs;
        _qualifiers = [.. inputs.Select(Qualifier)];
    }

    /// <summary>The input streams, primary first.</summary>
    public IReadOnlyList<string> Inputs { get; }

    /// <summary>The primary input: its channels are plain producer ids.</summary>
    public string Primary => Inputs[0];

    /// <summary>The channel of <paramref name="producerId"/> (plain or already a channel) on <paramref name="input"/>.</summary>
    public string ChannelOf(string producerId, string input)
    {
        var producer = ProducerOf(producerId);
        return input == Primary ? producer : producer + Qualifier(input);
    }

    /// <summary>The producer id of a channel (the channel itself on the primary input).</summary>
    public string ProducerOf(string channel)
    {
        for (var i = 1; i < _qualifiers.Length; i++)
        {
            if (channel.EndsWith(_qualifiers[i], StringComparison.Ordinal))
            {
                return channel[..^_qualifiers[i].Length];
            }
        }

        return channel;
    }

    /// <summary>The input a channel belongs to.</summary>
    public string InputOf(string channel)
    {
        for (var i = 1; i < _qualifiers.Length; i++)
        {
            if (channel.EndsWith(_qualifiers[i], StringComparison.Ordinal))
            {
                return Inputs[i];
            }
        }

        return Primary;
    }

    /// <summary>The message as its channel on <paramref name="input"/> names it (the same instance when nothing changes).</summary>
    public IMessage Rename(IMessage message, string input)
    {
        if (message.ProducerId is not { } producerId)
        {
            return message;
        }

        var channel = ChannelOf(producerId, input);
        return channel == producerId ? message : message.WithSequence(channel, message.Sequence);
    }

    /// <summary>The text a channel on another input ends with: '@' and the input, escaped.</summary>
    private static string Qualifier(string input) => "@" + Uri.EscapeDataString(input);
}
