using ExactlyOnce.Diagnostics;
using Orleans.Runtime;
using Orleans.Streams;

namespace ExactlyOnce.Messaging;

/// <summary>The grain's <see cref="IPersistentState{TState}"/> as the core's state store.</summary>
internal sealed class PersistentStateStore<TState>(IPersistentState<TState> state) : IStateStore<TState>
{
    public TState State
    {
        get => state.State;
        set => state.State = value;
    }

    public Task WriteAsync() => state.WriteStateAsync();
}

/// <summary>Publishes to the durable stream provider and records each published copy.</summary>
internal sealed class StreamPublisher(IStreamProvider streams, ISentMessageLog sentLog, string component) : IMessagePublisher
{
    public async Task PublishAsync(string streamNamespace, string streamKey, IMessage message, string? traceParent, DateTime? sentUtc)
    {
        var stream = streams.GetStream<IMessage>(StreamId.Create(streamNamespace, streamKey));
        await MessagingTracing.WithContextAsync(traceParent, sentUtc, () => stream.OnNextAsync(message));
        await sentLog.RecordAsync(component, streamNamespace, streamKey, message);
    }
}

/// <summary>The outbox-flush reminder of one grain.</summary>
internal sealed class GrainOutboxReminder(Grain grain, TimeSpan period) : IOutboxReminder
{
    public const string Name = "outbox-flush";

    public Task RegisterAsync() => grain.RegisterOrUpdateReminder(Name, period, period);

    public async Task UnregisterAsync()
    {
        var reminder = await grain.GetReminder(Name);
        if (reminder is not null)
        {
            await grain.UnregisterReminder(reminder);
        }
    }
}

/// <summary>
/// One grain timer that calls the component back at the earliest due time asked for (a delayed
/// retry). Not durable: the recovery reminder brings the grain back after a crash.
/// </summary>
internal sealed class GrainRetryTimer(Grain grain, Func<Task> callback) : IRetryTimer
{
    private IGrainTimer? _timer;
    private DateTime _dueUtc = DateTime.MaxValue;

    public void WakeAt(DateTime dueUtc)
    {
        if (_timer is not null && _dueUtc <= dueUtc)
        {
            return;
        }

        _timer?.Dispose();
        _dueUtc = dueUtc;
        var delay = dueUtc - DateTime.UtcNow;
        _timer = grain.RegisterGrainTimer(OnTickAsync, new GrainTimerCreationOptions
        {
            DueTime = delay > TimeSpan.Zero ? delay : TimeSpan.Zero,
            Period = Timeout.InfiniteTimeSpan,
        });
    }

    private Task OnTickAsync(CancellationToken cancellationToken)
    {
        _timer?.Dispose();
        _timer = null;
        _dueUtc = DateTime.MaxValue;
        return callback();
    }
}
