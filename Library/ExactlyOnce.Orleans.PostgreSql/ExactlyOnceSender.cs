using System.Collections.Concurrent;
using ExactlyOnce.Messaging;
using Microsoft.Extensions.Options;

namespace ExactlyOnce.PostgreSql;

/// <summary>
/// Sends messages from outside the cluster (a client, a web front end) exactly once: each message
/// is numbered for its destination stream and recorded in PostgreSQL before it is published, then
/// confirmed. A message recorded but not confirmed (the process died in between) is published by a
/// silo's sweeper; a re-send publishes the recorded copy (same id, sequence and payload), which its
/// receiver recognises as a duplicate. Registered by
/// <see cref="ExactlyOncePostgreSqlExtensions.AddExactlyOnceProducers"/>.
/// </summary>
public sealed class ExactlyOnceSender
{
    private readonly IClusterClient _client;
    private readonly string _streamProvider;
    private readonly ConcurrentDictionary<string, Task<string>> _producers = new(StringComparer.Ordinal);

    internal ExactlyOnceSender(IClusterClient client, ClientOutbox outbox, IOptions<ProducerOptions> options)
    {
        _client = client;
        Outbox = outbox;
        _streamProvider = options.Value.StreamProvider;
    }

    /// <summary>The outbox the messages are recorded in (to find, list or re-send recorded messages).</summary>
    public ClientOutbox Outbox { get; }

    /// <summary>
    /// Records and publishes <paramref name="message"/> to the stream (<paramref name="streamNamespace"/>,
    /// <paramref name="streamKey"/>) as producer <paramref name="producerName"/>: a name used by every
    /// process that sends as this producer (each gets its next sequence per stream). Returns the
    /// recorded copy. Recording a message id that is recorded already throws
    /// <see cref="DuplicateClientMessageException"/>: re-send it with <see cref="ResendAsync"/>.
    /// </summary>
    public async Task<ClientRecord> SendAsync(string producerName, string streamNamespace, string streamKey, IMessage message, CancellationToken cancellationToken = default) =>
        (await SendBatchAsync(producerName, [(streamNamespace, streamKey, message)], cancellationToken))[0];

    /// <summary>Records several messages in one transaction, then publishes them in order (see the single-message overload).</summary>
    public async Task<IReadOnlyList<ClientRecord>> SendBatchAsync(
        string producerName, IReadOnlyList<(string StreamNamespace, string StreamKey, IMessage Message)> messages, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(producerName);
        ArgumentNullException.ThrowIfNull(messages);
        var producerId = await ProducerIdAsync(producerName, cancellationToken);
        var records = await Outbox.RecordAsync(producerId, messages, cancellationToken);
        foreach (var record in records)
        {
            await ClientPublishing.PublishAsync(_client, _streamProvider, record);
        }

        await Outbox.MarkPublishedAsync([.. records.Select(r => r.Message.MessageId)], cancellationToken);
        return records;
    }

    /// <summary>Publishes the recorded copy of <paramref name="messageId"/> again; false when no message with that id was recorded.</summary>
    public async Task<bool> ResendAsync(Guid messageId, CancellationToken cancellationToken = default)
    {
        if (await Outbox.FindAsync(messageId, cancellationToken) is not { } record)
        {
            return false;
        }

        await ClientPublishing.PublishAsync(_client, _streamProvider, record);
        return true;
    }

    private Task<string> ProducerIdAsync(string producerName, CancellationToken cancellationToken)
    {
        var task = _producers.GetOrAdd(producerName, name => Outbox.NamedProducerAsync(name, CancellationToken.None));
        if (task.IsFaulted || task.IsCanceled)
        {
            // A failed lookup is not kept: this send asks the database again instead of replaying the old failure.
            _producers.TryRemove(new KeyValuePair<string, Task<string>>(producerName, task));
            task = _producers.GetOrAdd(producerName, name => Outbox.NamedProducerAsync(name, CancellationToken.None));
        }

        return task.WaitAsync(cancellationToken);
    }
}
