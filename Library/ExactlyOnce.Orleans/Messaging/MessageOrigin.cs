namespace ExactlyOnce.Messaging;

/// <summary>
/// Where a message comes from, as its receiver sees it: the W3C <c>traceparent</c> of the span that
/// committed or sent it, and when (either may be unknown). A message kept until its turn keeps it,
/// so it is traced and measured as its own when it is applied.
/// </summary>
internal readonly record struct MessageOrigin(string? TraceParent, DateTime? SentUtc);
