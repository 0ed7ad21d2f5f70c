using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Grains.Messaging;
using Microsoft.Extensions.Logging.Abstractions;

namespace ExactlyOnce.Tests.Core;

/// <summary>One component on fakes: its store survives a simulated crash, its processor does not.</summary>
public sealed class ComponentHarness<TData, TMessage> where TData : class, new() where TMessage : class, IMessage
{
    private readonly IComponentLogic<TData, TMessage> _logic;
    private readonly MessagingOptions _options;

    public ComponentHarness(IComponentLogic<TData, TMessage> logic, FakePublisher publisher, FakeFaults faults, TimeProvider clock, MessagingOptions? options = null)
    {
        _logic = logic;
        _options = options ?? new MessagingOptions();
        Publisher = publisher;
        Faults = faults;
        Clock = clock;
        Store = new FakeStore<TData>();
        Processor = NewProcessor();
    }

    public FakeStore<TData> Store { get; private set; }

    public MessageProcessor<TData> Processor { get; private set; }

    public FakePublisher Publisher { get; }

    public FakeFaults Faults { get; }

    public TimeProvider Clock { get; }

    public FakeReminder Reminder { get; } = new();

    public Task<ProcessOutcome> DeliverAsync(TMessage message) => Processor.ProcessAsync(message, _logic.Handle);

    /// <summary>The process dies: memory is lost, a new activation reads storage and flushes its outbox.</summary>
    public async Task CrashAndRecoverAsync()
    {
        Store = Store.Reload();
        Processor = NewProcessor();
        await Processor.FlushOutboxAsync();
    }

    private MessageProcessor<TData> NewProcessor() =>
        new(_logic.Component, Store, Publisher, Faults, Reminder, Clock, _options, _logic.Clone, NullLogger.Instance);
}
