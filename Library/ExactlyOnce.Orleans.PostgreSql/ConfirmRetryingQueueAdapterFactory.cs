using Microsoft.Extensions.Logging;
using Orleans.Runtime;
using Orleans.Streams;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace ExactlyOnce.PostgreSql;

/// <summary>
/// Wraps the durable provider's queue adapter factory so that a failed confirm is tried again.
/// The pulling agent confirms a batch once, when it leaves the cache, and only logs a failure: a
/// confirm lost to a database restart leaves the rows claimed, the receiver keeps renewing their
/// lease, and rows at the tail of a queue (no later confirm of the same claimant) wait out the
/// renewal cap, many visibility timeouts, before anyone can take them. Retrying for up to one
/// visibility timeout (after that another silo may hold the rows, and a stale confirm is a no-op
/// anyway) turns that into seconds. Reads, publishing and everything else pass through unchanged.
/// </summary>
internal sealed class ConfirmRetryingQueueAdapterFactory(IQueueAdapterFactory inner, TimeSpan retryFor, ILoggerFactory loggers) : IQueueAdapterFactory
{
    private readonly ResiliencePipeline _confirmRetries = new ResiliencePipelineBuilder()
        .AddTimeout(new TimeoutStrategyOptions { Timeout = retryFor })
        .AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => ex is not OperationCanceledException),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            Delay = TimeSpan.FromMilliseconds(250),
            MaxDelay = TimeSpan.FromSeconds(5),
            UseJitter = true,
        })
        .Build();

    private readonly ILogger _logger = loggers.CreateLogger<ConfirmRetryingQueueAdapterFactory>();

    public Task<IQueueAdapter> CreateAdapter() => CreateAdapter(CancellationToken.None);

    public async Task<IQueueAdapter> CreateAdapter(CancellationToken cancellationToken) => new Adapter(await inner.CreateAdapter(cancellationToken), this);

    public IQueueAdapterCache GetQueueAdapterCache() => inner.GetQueueAdapterCache();

    public IStreamQueueMapper GetStreamQueueMapper() => inner.GetStreamQueueMapper();

    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) => inner.GetDeliveryFailureHandler(queueId);

    private sealed class Adapter(IQueueAdapter inner, ConfirmRetryingQueueAdapterFactory owner) : IQueueAdapter
    {
        public string Name => inner.Name;

        public bool IsRewindable => inner.IsRewindable;

        public StreamProviderDirection Direction => inner.Direction;

        public Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext) =>
            inner.QueueMessageBatchAsync(streamId, events, token, requestContext);

        public IQueueAdapterReceiver CreateReceiver(QueueId queueId) => new Receiver(inner.CreateReceiver(queueId), queueId, owner);
    }

    private sealed class Receiver(IQueueAdapterReceiver inner, QueueId queueId, ConfirmRetryingQueueAdapterFactory owner) : IQueueAdapterReceiver
    {
        private readonly CancellationTokenSource _stopping = new();
        private readonly List<Task> _retries = [];

        public Task Initialize(TimeSpan timeout) => inner.Initialize(timeout);

        public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount) => GetQueueMessagesAsync(maxCount, CancellationToken.None);

        public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount, CancellationToken cancellationToken) => inner.GetQueueMessagesAsync(maxCount, cancellationToken);

        public Task MessagesDeliveredAsync(IList<IBatchContainer> messages) => MessagesDeliveredAsync(messages, CancellationToken.None);

        /// <summary>
        /// Confirms at once; a failure is retried in the background, so the queue's reading goes on
        /// (when the database is down, the reads fail too and nothing is lost by waiting).
        /// </summary>
        public async Task MessagesDeliveredAsync(IList<IBatchContainer> messages, CancellationToken cancellationToken)
        {
            try
            {
                await inner.MessagesDeliveredAsync(messages, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException && !_stopping.IsCancellationRequested)
            {
                PostgreSqlLog.ConfirmRetrying(owner._logger, messages.Count, queueId.ToString(), 1, ex);
                lock (_retries)
                {
                    _retries.RemoveAll(t => t.IsCompleted);
                    _retries.Add(Task.Run(() => RetryAsync(messages)));
                }
            }
        }

        private async Task RetryAsync(IList<IBatchContainer> messages)
        {
            var attempts = 1;
            try
            {
                await owner._confirmRetries.ExecuteAsync(async token =>
                {
                    attempts++;
                    try
                    {
                        await inner.MessagesDeliveredAsync(messages, token);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        PostgreSqlLog.ConfirmRetrying(owner._logger, messages.Count, queueId.ToString(), attempts, ex);
                        throw;
                    }
                }, _stopping.Token);
                PostgreSqlLog.Confirmed(owner._logger, messages.Count, queueId.ToString(), attempts);
            }
            catch (TimeoutRejectedException)
            {
                // The rows' lease runs out and they are delivered again (deduplicated downstream).
                PostgreSqlLog.ConfirmGaveUp(owner._logger, messages.Count, queueId.ToString(), attempts);
            }
            catch (OperationCanceledException)
            {
                // Shutting down: the receiver releases what it still holds.
            }
        }

        public async Task Shutdown(TimeSpan timeout)
        {
            await _stopping.CancelAsync();
            Task[] retries;
            lock (_retries)
            {
                retries = [.. _retries];
            }

            await Task.WhenAll(retries);
            await inner.Shutdown(timeout);
        }
    }
}
