using System.Text.Json;

namespace ExactlyOnce.Messaging;

/// <summary>A component's <see cref="IComponentLogic{TData, TMessage}"/> as the processor's handler: type and common checks, then the logic's own.</summary>
internal sealed class LogicHandler<TData, TMessage>(IComponentLogic<TData, TMessage> logic, string key, IDeadLetterSink deadLetters) : IMessageHandler<TData>
    where TData : class, new()
    where TMessage : class, IMessage
{
    public string? Validate(IMessage message) =>
        message is not TMessage typed
            ? $"unknown message type {message.GetType().FullName} for component {logic.Component}"
            : MessageChecks.Common(message, key) ?? logic.Validate(typed, key);

    public TData Handle(TData data, IMessage message, OutgoingMessages outgoing) => logic.Handle(data, (TMessage)message, outgoing);

    public Task RejectAsync(IMessage message, string input, string reason) => RejectAsync(message, input, message.MessageId, reason);

    public Task DeadLetterAsync(IMessage message, string input, FailureRecord failure, MessageOrigin origin) =>
        deadLetters.DeadLetterAsync(new SequencedDeadLetter(logic.Component, input, key, message, failure, origin));

    /// <summary>Records anything that arrived on stream <paramref name="input"/> and cannot be processed.</summary>
    public Task RejectAsync(object? item, string input, Guid? messageId, string reason) =>
        deadLetters.RejectAsync(new RejectedMessage(
            logic.Component, input, key, messageId, item?.GetType().Name ?? "null", reason, ToJson(item)));

    private static string ToJson(object? item)
    {
        try
        {
            return item is null ? "null" : JsonSerializer.Serialize(item, item.GetType());
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException)
        {
            return JsonSerializer.Serialize(item!.ToString());
        }
    }
}
