using System.Text.Json;
using ExactlyOnce.Client.Runs;
using ExactlyOnce.Client.Verification;
using ExactlyOnce.Grains.Billing;
using ExactlyOnce.Grains.Messages;
using ExactlyOnce.Messaging;

namespace ExactlyOnce.Tests.Client;

/// <summary>The judge must be able to fail: hand-made states with one defect each.</summary>
[Trait("Kind", "Unit")]
public sealed class RunVerifierTests
{
    private static readonly RunMessage A = new(0, Guid.NewGuid(), "o1", Filling.Meat, 1);
    private static readonly RunMessage B = new(1, Guid.NewGuid(), "o1", Filling.Strawberry, 2);
    private static readonly RunRecord Run = new("r", DeliveryMode.ExactlyOnce, 1, 2, 0.5, [A, B]);

    private static Guid EventOf(RunMessage m) => MessageIds.Derive(m.MessageId, "order", 0);

    private static BillItem Billed(RunMessage m, int lineCount) => new(EventOf(m), m.Filling, lineCount, Menu.PriceOf(m.Filling), false);

    private static SentCopy Copy(RunMessage m, int lineCount, Filling? filling = null) => new(
        EventOf(m), m.OrderId, JsonSerializer.Serialize(new ItemAdded(EventOf(m), m.OrderId, filling ?? m.Filling, lineCount, DeliveryMode.ExactlyOnce)));

    private static VerifyReport Verify(IReadOnlyList<Filling> lines, IReadOnlyList<BillItem> bill, IReadOnlyList<SentCopy> sent) =>
        RunVerifier.Verify(Run, new Dictionary<string, OrderState> { ["o1"] = new(lines, bill) }, sent, quiescent: true);

    [Fact]
    public void Should_pass_a_correct_state()
    {
        var report = Verify([Filling.Meat, Filling.Strawberry], [Billed(A, 1), Billed(B, 2)], [Copy(A, 1), Copy(B, 2), Copy(B, 2)]);
        Assert.True(report.Ok);
        Assert.Equal((3, 2, 0, 0, 0, 0), (report.Sent, report.Unique, report.Lost, report.Duplicated, report.Ghost, report.Inconsistent));
    }

    [Fact]
    public void Should_report_one_lost()
    {
        var report = Verify([Filling.Meat, Filling.Strawberry], [Billed(A, 1)], [Copy(A, 1)]);
        Assert.Equal((1, 0, 0, 0), (report.Lost, report.Duplicated, report.Ghost, report.Inconsistent));
        Assert.False(report.Ok);
        Assert.Equal("o1", Assert.Single(report.Differences).OrderId);
    }

    [Fact]
    public void Should_report_one_duplicated()
    {
        var report = Verify([Filling.Meat, Filling.Strawberry], [Billed(A, 1), Billed(B, 2), Billed(B, 2)], [Copy(A, 1), Copy(B, 2)]);
        Assert.Equal((0, 1, 0, 0), (report.Lost, report.Duplicated, report.Ghost, report.Inconsistent));
        Assert.False(report.Ok);
    }

    [Fact]
    public void Should_report_one_ghost()
    {
        var ghost = new BillItem(Guid.NewGuid(), Filling.Mushrooms, 3, 45m, false);
        var report = Verify([Filling.Meat, Filling.Strawberry], [Billed(A, 1), Billed(B, 2), ghost], [Copy(A, 1), Copy(B, 2)]);
        Assert.Equal((0, 0, 1, 0), (report.Lost, report.Duplicated, report.Ghost, report.Inconsistent));
        Assert.False(report.Ok);
    }

    [Fact]
    public void Should_report_one_inconsistent_when_copies_of_an_id_differ()
    {
        var report = Verify([Filling.Meat, Filling.Strawberry], [Billed(A, 1), Billed(B, 2)], [Copy(A, 1), Copy(B, 2), Copy(B, 3)]);
        Assert.Equal((0, 0, 0, 1), (report.Lost, report.Duplicated, report.Ghost, report.Inconsistent));
        Assert.False(report.Ok);
    }

    [Fact]
    public void Should_report_one_inconsistent_when_the_bill_differs_from_the_committed_payload()
    {
        var report = Verify([Filling.Meat, Filling.Strawberry], [Billed(A, 1), Billed(B, 5)], [Copy(A, 1), Copy(B, 2)]);
        Assert.Equal((0, 0, 0, 1), (report.Lost, report.Duplicated, report.Ghost, report.Inconsistent));
    }

    [Fact]
    public void Should_not_call_a_run_ok_before_quiescence()
    {
        var report = RunVerifier.Verify(Run, new Dictionary<string, OrderState> { ["o1"] = new([Filling.Meat, Filling.Strawberry], [Billed(A, 1), Billed(B, 2)]) }, [], quiescent: false);
        Assert.False(report.Ok);
    }

    [Fact]
    public void Should_report_one_reordered_when_a_later_command_was_applied_first()
    {
        // Contents as the model says, but applied the other way round.
        var report = Verify([Filling.Meat, Filling.Strawberry], [Billed(B, 2), Billed(A, 1)], [Copy(A, 1), Copy(B, 2)]);
        Assert.Equal((0, 0, 0, 0, 1), (report.Lost, report.Duplicated, report.Ghost, report.Inconsistent, report.Reordered));
        Assert.False(report.Ok);
    }

    [Fact]
    public void Should_replay_removes_in_send_order_and_find_an_add_applied_after_its_remove()
    {
        var add = new RunMessage(0, Guid.NewGuid(), "o1", Filling.Meat, 1);
        var remove = new RunMessage(1, Guid.NewGuid(), "o1", Filling.Meat, 1, Remove: true);
        var run = new RunRecord("r", DeliveryMode.ExactlyOnce, 1, 2, 0, [add, remove]);
        var removal = new BillItem(EventOf(remove), Filling.Meat, 0, -50m, true);
        var ok = RunVerifier.Verify(run, new Dictionary<string, OrderState> { ["o1"] = new([], [Billed(add, 1), removal]) }, [], quiescent: true);
        Assert.True(ok.Ok);

        // The remove came first and found nothing; the add then left a line and +50: what the sender did not mean.
        var wrong = RunVerifier.Verify(run, new Dictionary<string, OrderState> { ["o1"] = new([Filling.Meat], [Billed(add, 1)]) }, [], quiescent: true);
        Assert.Equal((1, 1), (wrong.Lost, wrong.Duplicated)); // the removal's event is missing; one line too many
        Assert.False(wrong.Ok);
    }
}
