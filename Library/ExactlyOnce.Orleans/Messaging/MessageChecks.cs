
namespace ExactlyOnce.Messaging;

/// <summary>Checks every message must pass, whatever the component.</summary>
internal static class MessageChecks
{
    /// <summary>The reason the message is invalid, or null.</summary>
    public static string? Common(IMessage message, string streamKey)
    {
        if (message.MessageId == Guid.Empty)
        {
            return "MessageId is empty";
        }

        if (!Enum.IsDefined(message.Mode))
        {
            return $"unknown delivery mode {(int)message.Mode}";
        }

        return string.IsNullOrWhiteSpace(streamKey) ? "stream key is empty" : null;
    }
}
