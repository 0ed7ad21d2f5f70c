using ExactlyOnce.Silo.Http;

namespace ExactlyOnce.Tests.Silo;

/// <summary>
/// The operator page's p50/p95/p99 cut from the summed latency buckets (<see cref="OperatorPage.Percentile"/>).
/// The bounds are 0.5 ms × 2^(i/4), so bucket 0 is (0, 0.5 ms], bucket 4 is (0.5 ms × 2^(3/4), 1 ms],
/// bucket 8 is (1 ms × 2^(3/4), 2 ms], bucket 40 is (0.512 s × 2^(-1/4), 0.512 s], and bucket 81 is
/// everything above the last bound, 524.288 s. The expected values below were worked out by hand
/// from those bounds: lower + (upper − lower) × (rank − below) / in-bucket, rank = q × count.
/// </summary>
[Trait("Kind", "Unit")]
public sealed class OperatorPagePercentileTests
{
    private const double Precision = 1e-12;

    /// <summary>0.5 ms × 2^(3/4), the upper bound of bucket 3.</summary>
    private const double Bound3 = 0.000840896415253714;

    /// <summary>1 ms × 2^(3/4), the upper bound of bucket 7.</summary>
    private const double Bound7 = 0.001681792830507429;

    /// <summary>0.512 s × 2^(-1/4), the upper bound of bucket 39.</summary>
    private const double Bound39 = 0.430538964609902;

    [Fact]
    public void Should_use_the_bounds_the_cases_were_worked_out_with()
    {
        var bounds = PipelineMeterReader.LatencyBounds;
        Assert.Equal(81, bounds.Length);
        Assert.Equal(0.0005, bounds[0], Precision);
        Assert.Equal(Bound3, bounds[3], Precision);
        Assert.Equal(0.001, bounds[4], Precision);
        Assert.Equal(Bound7, bounds[7], Precision);
        Assert.Equal(0.002, bounds[8], Precision);
        Assert.Equal(Bound39, bounds[39], Precision);
        Assert.Equal(0.512, bounds[40], Precision);
        Assert.Equal(524.288, bounds[80], 1e-9);
    }

    [Fact]
    public void Should_interpolate_inside_the_first_bucket_from_zero()
    {
        var buckets = Buckets((0, 10));

        // (0, 0.5 ms]: rank 5 of 10 is half way, 9.5 of 10 is 95 %, 9.9 of 10 is 99 %.
        Assert.Equal(0.00025, OperatorPage.Percentile(buckets, 10, 0.50, max: 0.0005), Precision);
        Assert.Equal(0.000475, OperatorPage.Percentile(buckets, 10, 0.95, max: 0.0005), Precision);
        Assert.Equal(0.000495, OperatorPage.Percentile(buckets, 10, 0.99, max: 0.0005), Precision);
    }

    [Fact]
    public void Should_interpolate_inside_one_bucket_from_its_lower_bound()
    {
        var buckets = Buckets((4, 10));

        // (Bound3, 1 ms]: half way is Bound3 + (1 ms − Bound3) / 2.
        Assert.Equal(0.000920448207626857, OperatorPage.Percentile(buckets, 10, 0.50, max: 0.001), Precision);
    }

    [Fact]
    public void Should_find_the_bucket_each_quantile_falls_in_when_values_are_spread()
    {
        // 40 in (0, 0.5 ms], 50 in (Bound3, 1 ms], 10 in (Bound7, 2 ms], empty buckets between.
        var buckets = Buckets((0, 40), (4, 50), (8, 10));

        // rank 50: 10th of 50 in bucket 4 = Bound3 + (1 ms − Bound3) × 10/50; the empty buckets 1-3 add nothing.
        Assert.Equal(0.000872717132202972, OperatorPage.Percentile(buckets, 100, 0.50, max: 0.00199), Precision);

        // rank 95: 5th of 10 in bucket 8 = Bound7 + (2 ms − Bound7) × 5/10.
        Assert.Equal(0.001840896415253715, OperatorPage.Percentile(buckets, 100, 0.95, max: 0.00199), Precision);

        // rank 99: 9th of 10 in bucket 8 = Bound7 + (2 ms − Bound7) × 9/10, below the largest value seen.
        Assert.Equal(0.001968179283050743, OperatorPage.Percentile(buckets, 100, 0.99, max: 0.00199), Precision);
    }

    [Fact]
    public void Should_give_the_upper_bound_of_the_bucket_a_quantile_ends_exactly_on()
    {
        // rank 50 is the last value of bucket 0: its upper bound, 0.5 ms, not the lower bound of bucket 4 (Bound3).
        var buckets = Buckets((0, 50), (4, 50));

        Assert.Equal(0.0005, OperatorPage.Percentile(buckets, 100, 0.50, max: 0.001), Precision);
    }

    [Fact]
    public void Should_interpolate_in_the_last_bucket_up_to_the_largest_value_seen()
    {
        // 98 in (Bound39, 0.512 s], 2 above 524.288 s, the largest 600 s: the last bucket is (524.288 s, 600 s].
        var buckets = Buckets((40, 98), (81, 2));

        // rank 99: 1st of 2 in the last bucket = 524.288 + (600 − 524.288) × 1/2.
        Assert.Equal(562.144, OperatorPage.Percentile(buckets, 100, 0.99, max: 600), 1e-9);
        Assert.Equal(600, OperatorPage.Percentile(buckets, 100, 1.0, max: 600), 1e-9);
    }

    [Fact]
    public void Should_never_report_more_than_the_largest_value_seen()
    {
        var buckets = Buckets((40, 10));

        // Interpolated, p99 would be Bound39 + (0.512 − Bound39) × 0.99 ≈ 0.5112 s; nothing above 0.45 s was seen.
        Assert.Equal(0.45, OperatorPage.Percentile(buckets, 10, 0.99, max: 0.45), Precision);

        // p20 interpolates to Bound39 + (0.512 − Bound39) × 0.2 ≈ 0.4468 s, under the cap: left as it is.
        Assert.Equal(0.446831171687922, OperatorPage.Percentile(buckets, 10, 0.20, max: 0.45), Precision);
    }

    [Fact]
    public void Should_give_the_largest_value_seen_when_nothing_was_counted()
    {
        Assert.Equal(0, OperatorPage.Percentile(Buckets(), 0, 0.50, max: 0));
    }

    [Fact]
    public void Should_leave_the_latency_out_of_the_view_when_nothing_was_counted()
    {
        var silo = new SiloPipelineSnapshot
        {
            Silo = "S1",
            Components = [new ComponentFigures { Component = "order", Applied = 0, LatencyBuckets = [.. Buckets()], LatencyMax = 0 }],
        };

        var view = Assert.Single(OperatorPage.Aggregate([silo]));

        Assert.Null(view.Latency);
    }

    [Fact]
    public void Should_cut_the_percentiles_from_the_buckets_of_all_silos_added_up()
    {
        // Silo 1 saw 40 fast values and 10 in bucket 8; silo 2 the 50 in bucket 4: together the spread case above.
        var one = new SiloPipelineSnapshot
        {
            Silo = "S1",
            Components = [new ComponentFigures { Component = "order", LatencyBuckets = [.. Buckets((0, 40), (8, 10))], LatencyMax = 0.00199 }],
        };
        var two = new SiloPipelineSnapshot
        {
            Silo = "S2",
            Components = [new ComponentFigures { Component = "order", LatencyBuckets = [.. Buckets((4, 50))], LatencyMax = 0.001 }],
        };

        var latency = Assert.Single(OperatorPage.Aggregate([one, two])).Latency;

        Assert.NotNull(latency);
        Assert.Equal(100, latency.Count);
        Assert.Equal(0.000872717132202972, latency.P50, Precision);
        Assert.Equal(0.001840896415253715, latency.P95, Precision);
        Assert.Equal(0.001968179283050743, latency.P99, Precision);
        Assert.Equal(0.00199, latency.Max, Precision);
    }

    private static long[] Buckets(params (int Index, long Count)[] counts)
    {
        var buckets = new long[PipelineMeterReader.LatencyBounds.Length + 1];
        foreach (var (index, count) in counts)
        {
            buckets[index] = count;
        }

        return buckets;
    }
}
