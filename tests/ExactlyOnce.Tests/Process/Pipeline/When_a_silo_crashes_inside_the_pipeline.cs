using ExactlyOnce.Faults;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;
using ExactlyOnce.Hosting;

namespace ExactlyOnce.Tests.Pipeline;

/// <summary>The crash action: the silo process kills itself at a fault point; the survivor recovers.</summary>
[Trait("Category", "Crash")]
[Trait("Kind", "Process")]
public sealed class When_a_silo_crashes_inside_the_pipeline : IAsyncLifetime
{
    private static readonly string[] StreamArgs =
    [
        "--Streams:VisibilityTimeout", "00:00:20", "--Streams:MaxEventDeliveryTime", "00:00:10", "--Streams:QueueCount", "2",
        .. SiloProcess.FaultInjectionOn,
    ];

    private TestDatabase _db = null!;
    private SiloProcess _a = null!;
    private SiloProcess _b = null!;
    private ClusterConnection _connection = null!;
    private PipelineDriver _driver = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync("pipecrash");
        var clusterId = $"pc-{Guid.NewGuid():N}"[..12];
        _a = SiloProcess.Start(_db.ConnectionString, clusterId, StreamArgs);
        _b = SiloProcess.Start(_db.ConnectionString, clusterId, StreamArgs);
        await Task.WhenAll(_a.WaitStartedAsync(TimeSpan.FromSeconds(60)), _b.WaitStartedAsync(TimeSpan.FromSeconds(60)));
        _connection = await ClusterConnection.ConnectAsync(
            new ClusterSettings { ClusterId = clusterId, ServiceId = clusterId, ConnectionString = _db.ConnectionString },
            new StreamSettings { QueueCount = 2 }, CancellationToken.None);
        _driver = new PipelineDriver(_connection.Client, _db);
    }

    public async Task DisposeAsync()
    {
        await _connection.DisposeAsync();
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Should_send_the_committed_message_after_an_after_commit_crash_with_its_committed_payload()
    {
        const string order = "crash-after-commit";
        var first = new AddItem(Guid.NewGuid(), order, Filling.Meat);
        await _driver.SetFaultsAsync($"{FaultPoints.AfterCommit}=1:crash@{first.MessageId}");
        await _driver.PublishAsync(first);
        await Eventually.WaitForAsync(() => Task.FromResult(_a.HasExited || _b.HasExited), x => x, TimeSpan.FromSeconds(60), "a silo to crash at after-commit");

        // A second add after the crash: the order's line count is now 2 for it, but the stored
        // event of the first add must still say 1.
        var second = new AddItem(Guid.NewGuid(), order, Filling.Strawberry);
        await _driver.PublishAsync(second);

        var bill = await _driver.WaitForBillAsync(order, b => b.Items.Count >= 2, TimeSpan.FromSeconds(120));
        var firstEvent = MessageIds.Derive(first.MessageId, "order", 0);
        Assert.Equal(2, bill.Items.Count);
        Assert.Equal(1, bill.Items.Single(i => i.MessageId == firstEvent).LineCount);
        Assert.Equal(2, bill.Items.Single(i => i.MessageId == MessageIds.Derive(second.MessageId, "order", 0)).LineCount);
        Assert.Single((await _driver.SentCopiesAsync(firstEvent)).Select(c => c.Payload).Distinct());
        Assert.Equal([Filling.Meat, Filling.Strawberry], (await _driver.OrderAsync(order)).Lines);
        Assert.Equal(85m, bill.Total);
    }

    [Fact]
    public async Task Should_bill_once_when_a_crash_after_dispatch_makes_the_event_go_twice()
    {
        const string order = "crash-after-dispatch";
        var add = new AddItem(Guid.NewGuid(), order, Filling.SwissCheese);
        await _driver.SetFaultsAsync($"{FaultPoints.AfterDispatch}=1:crash@{add.MessageId}");
        await _driver.PublishAsync(add);
        await Eventually.WaitForAsync(() => Task.FromResult(_a.HasExited || _b.HasExited), x => x, TimeSpan.FromSeconds(60), "a silo to crash at after-dispatch");

        var eventId = MessageIds.Derive(add.MessageId, "order", 0);
        // The clear was never stored, so the recovering activation sends the event again.
        var copies = await Eventually.WaitForAsync(() => _driver.SentCopiesAsync(eventId), c => c.Count >= 2, TimeSpan.FromSeconds(120), "the event to be sent a second time");
        await _driver.WaitForQuiescenceAsync([order], TimeSpan.FromSeconds(90));

        Assert.Single(copies.Select(c => c.Payload).Distinct());
        var bill = await _driver.BillAsync(order);
        Assert.Single(bill.Items);
        Assert.Equal(55m, bill.Total);
    }

    [Fact]
    public async Task Should_flush_the_committed_outbox_by_reminder_when_the_incoming_message_never_comes_back()
    {
        const string order = "crash-reminder";
        var add = new AddItem(Guid.NewGuid(), order, Filling.Mushrooms);
        await _driver.SetFaultsAsync($"{FaultPoints.AfterCommit}=1:crash@{add.MessageId}");
        await _driver.PublishAsync(add);
        await Eventually.WaitForAsync(() => Task.FromResult(_a.HasExited || _b.HasExited), x => x, TimeSpan.FromSeconds(60), "a silo to crash at after-commit");

        // The incoming message is gone for good (as if expired): only the reminder can wake the order.
        var deleted = await _db.ScalarAsync<long>("WITH d AS (DELETE FROM orleansstreammessage RETURNING 1) SELECT count(*) FROM d");
        Assert.Equal(1, deleted);

        var bill = await _driver.WaitForBillAsync(order, b => b.Items.Count == 1, TimeSpan.FromSeconds(150), "the reminder to flush the outbox");
        Assert.Equal(MessageIds.Derive(add.MessageId, "order", 0), bill.Items[0].MessageId);
        Assert.Equal([Filling.Mushrooms], (await _driver.OrderAsync(order)).Lines);
    }
}
