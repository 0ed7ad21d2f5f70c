using System.Globalization;
using ScottPlot;

namespace ExactlyOnce.Plots;

/// <summary>The PNG plots of docs/performance.md ("Plots").</summary>
public static class Charts
{
    public const int Width = 1100;
    public const int Height = 700;

    private static readonly string[] KnownModes = ["exactly-once", "at-least-once", "at-most-once"];
    private static readonly CultureInfo Numbers = CultureInfo.InvariantCulture;

    /// <summary>A sans-serif font installed here (ScottPlot's own pick on Linux may be a serif one).</summary>
    private static readonly string SansFont =
        new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Open Sans" }.FirstOrDefault(f => Fonts.GetTypeface(f, bold: false, italic: false)?.FamilyName == f) ?? Fonts.Sans;

    /// <summary>One measured point of one mode: <see cref="Saturated"/> when the run had no --rate.</summary>
    private sealed record ModePoint(double Offered, double Throughput, double? P99, bool Saturated);

    /// <summary>
    /// (a) messages applied per second end to end and (b) p99 end-to-end latency, against the
    /// offered load, one line per mode; a run without --rate (saturated) is drawn on its own,
    /// hollow and labelled "max", at the rate the client actually published.
    /// </summary>
    public static IReadOnlyList<string> OfferedLoad(IReadOnlyList<(string Path, BenchFile File)> reports, string outDir, string? machine, TextWriter warnings)
    {
        var byMode = new Dictionary<string, List<ModePoint>>();
        foreach (var (path, file) in reports)
        {
            foreach (var mode in file.Modes)
            {
                var offered = file.Rate ?? mode.PublishRate;
                if (!mode.Verified && mode.Mode != "at-most-once")
                {
                    warnings.WriteLine($"plots: warning: {path}: {mode.Mode} failed verification; plotted all the same");
                }

                if (!byMode.TryGetValue(mode.Mode, out var points))
                {
                    byMode[mode.Mode] = points = [];
                }

                points.Add(new ModePoint(offered, mode.Throughput, mode.LatencyMs?.P99, file.Rate is null));
            }
        }

        var modes = KnownModes.Where(byMode.ContainsKey).Concat(byMode.Keys.Except(KnownModes).Order()).ToList();
        var files = reports.Select(r => r.File).ToList();
        var subtitle = $"{BenchCommandLine(files, warnings)}\n{Machine(files.Select(f => f.Cores).Distinct().ToList(), machine)}";
        const string xLabel = "offered load, bench --rate (messages/s); \"max\": no --rate, at the rate the client published";

        var throughputPath = Path.Combine(outDir, "throughput-vs-offered-load.png");
        {
            var plot = new Plot();
            var top = byMode.Values.SelectMany(p => p).Max(p => Math.Max(p.Offered, p.Throughput));
            var reference = plot.Add.Line(0, 0, top, top);
            reference.LineColor = Colors.Gray;
            reference.LinePattern = LinePattern.Dotted;
            reference.LineWidth = 1.5f;
            reference.LegendText = "applied = offered";
            foreach (var (mode, index) in modes.Select((m, i) => (m, i)))
            {
                AddMode(plot, mode, index, byMode[mode].Select(p => (p.Offered, p.Throughput, p.Saturated)).ToList(), "0");
            }

            Finish(plot, $"Throughput against offered load, three delivery modes\n{subtitle}", xLabel, "messages applied at B per second (end to end)");
            plot.Axes.SetLimits(0, MaxX(byMode) * 1.15, 0, top * 1.12);
            plot.SavePng(throughputPath, Width, Height);
        }

        var latencyPath = Path.Combine(outDir, "latency-p99-vs-offered-load.png");
        {
            var plot = new Plot();
            var withLatency = modes.Where(m => byMode[m].Any(p => p.P99 is not null)).ToList();
            if (withLatency.Count == 0)
            {
                throw new InputException("no bench report has latency figures (latencyMs) to plot");
            }

            foreach (var mode in withLatency)
            {
                var index = modes.IndexOf(mode);
                AddMode(plot, mode, index, byMode[mode].Where(p => p.P99 is not null).Select(p => (p.Offered, p.P99!.Value, p.Saturated)).ToList(), "#,0");
            }

            var top = byMode.Values.SelectMany(p => p).Max(p => p.P99 ?? 0);
            Finish(plot, $"p99 end-to-end latency (client publish to bill entry at B) against offered load\n{subtitle}", xLabel, "p99 latency (ms)");
            plot.Axes.SetLimits(0, MaxX(byMode) * 1.15, 0, Math.Max(1, top) * 1.12);
            plot.SavePng(latencyPath, Width, Height);
        }

        return [throughputPath, latencyPath];
    }

    /// <summary>
    /// (c) the stored bytes of one order's state row (what each of its state writes rewrites)
    /// against the messages that order has processed, split into business data and protocol part;
    /// on the right axis the messages per second of each load, to see whether it stays flat.
    /// </summary>
    public static IReadOnlyList<string> StateSize(string path, StateSizeFile file, string outDir, string? machine, TextWriter warnings)
    {
        foreach (var entry in file.Entries.Where(e => e.Ok != true))
        {
            warnings.WriteLine($"plots: warning: {path}: the run of {entry.Messages} messages was {(entry.Ok is null ? "not judged" : "not verified OK")}; plotted all the same");
        }

        var entries = file.Entries.OrderBy(e => e.Messages).ToList();
        var plot = new Plot();
        // Checkpoints a decade or more apart are spaced by their logarithm, each one a tick.
        var log = entries[^1].Messages >= 10 * entries[0].Messages;
        double X(int messages) => log ? Math.Log10(messages) : messages;
        var xs = entries.Select(e => X(e.Messages)).ToArray();

        var palette = new ScottPlot.Palettes.Category10();
        void Bytes(Func<StateSizeEntry, long> bytes, string legend, Color color, LinePattern pattern, bool labels)
        {
            var ys = entries.Select(e => (double)bytes(e)).ToArray();
            var line = plot.Add.Scatter(xs, ys, color);
            line.LegendText = legend;
            line.LinePattern = pattern;
            line.LineWidth = 2;
            line.MarkerSize = 8;
            if (labels)
            {
                for (var i = 0; i < xs.Length; i++)
                {
                    var text = plot.Add.Text(ys[i].ToString("#,0 B", Numbers), xs[i], ys[i]);
                    text.LabelFontSize = 12;
                    text.LabelFontName = SansFont;
                    text.LabelFontColor = color;
                    text.LabelAlignment = Alignment.LowerCenter;
                    text.OffsetY = -8;
                }
            }
        }

        Bytes(e => e.StoredBytes, "stored bytes of the state row", palette.GetColor(0), LinePattern.Solid, labels: true);
        Bytes(e => e.DataBytes, "business data (order lines)", palette.GetColor(2), LinePattern.Dashed, labels: false);
        Bytes(e => e.ProtocolBytes, "protocol part (producer marks, outbox)", palette.GetColor(1), LinePattern.Dotted, labels: false);

        void Speed(double[] ys, string legend, Color color, LinePattern pattern)
        {
            var speed = plot.Add.Scatter(xs, ys, color);
            speed.LegendText = legend;
            speed.LinePattern = pattern;
            speed.LineWidth = 1.5f;
            speed.MarkerShape = MarkerShape.FilledSquare;
            speed.MarkerSize = 7;
            speed.Axes.YAxis = plot.Axes.Right;
        }

        var applied = entries.All(e => e.AppliedThroughput is > 0);
        if (applied)
        {
            Speed(entries.Select(e => e.AppliedThroughput!.Value).ToArray(), "messages/s, first publish to the order's last write (right axis)", palette.GetColor(4), LinePattern.Solid);
        }

        Speed(entries.Select(e => e.Throughput).ToArray(), "messages/s, load + verify commands' wall time (right axis)", Colors.Gray, LinePattern.Dashed);
        plot.Axes.Right.Label.Text = "messages/s of the load of that order";
        plot.Axes.Right.Label.FontSize = 13;

        plot.Axes.Bottom.SetTicks(xs, entries.Select(e => e.Messages.ToString("#,0", Numbers)).ToArray());
        var checkpoints = string.Join(' ', entries.Select(e => e.Messages.ToString(Numbers)));
        Finish(plot,
            $"Stored state of one order (A) against the messages it processed\n" +
            $"scripts/state-size.sh {checkpoints}; {file.Format} state format; silo build {Shorten(file.Silo.Split(' ')[0], 40)}" +
            (string.IsNullOrWhiteSpace(machine) ? "" : $"\n{machine.Trim()}"),
            $"messages processed by the order{(log ? " (log scale)" : "")}",
            "bytes written per state write (state row)");
        // Below the plot: the lines run along the top and the bottom of the data area.
        plot.ShowLegend(Edge.Bottom);
        var span = xs[^1] - xs[0];
        var pad = span > 0 ? span * 0.08 : Math.Max(1, Math.Abs(xs[0]) * 0.1);
        var topBytes = entries.Max(e => Math.Max(e.StoredBytes, Math.Max(e.DataBytes, e.ProtocolBytes)));
        plot.Axes.SetLimits(xs[0] - pad, xs[^1] + pad, 0, Math.Max(1, topBytes) * 1.2);
        var topSpeed = entries.Max(e => Math.Max(e.Throughput, e.AppliedThroughput ?? 0));
        plot.Axes.SetLimitsY(0, Math.Max(1, topSpeed) * 1.25, plot.Axes.Right);

        var output = Path.Combine(outDir, "state-write-size.png");
        plot.SavePng(output, Width, Height);
        return [output];
    }

    private static void AddMode(Plot plot, string mode, int index, List<(double X, double Y, bool Saturated)> points, string format)
    {
        var color = new ScottPlot.Palettes.Category10().GetColor(index);
        var rated = points.Where(p => !p.Saturated).OrderBy(p => p.X).ToList();
        if (rated.Count > 0)
        {
            var line = plot.Add.Scatter(rated.Select(p => p.X).ToArray(), rated.Select(p => p.Y).ToArray(), color);
            line.LegendText = mode;
            line.LineWidth = 2;
            line.MarkerSize = 8;
        }

        foreach (var (x, y, _) in points.Where(p => p.Saturated))
        {
            var max = plot.Add.Marker(x, y, MarkerShape.OpenCircle, 12, color);
            max.MarkerLineWidth = 2;
            if (rated.Count == 0)
            {
                max.LegendText = $"{mode} (max only)";
            }

            var text = plot.Add.Text($"max {y.ToString(format, Numbers)}", x, y);
            text.LabelFontSize = 12;
            text.LabelFontName = SansFont;
            text.LabelFontColor = color;
            text.LabelAlignment = Alignment.MiddleLeft;
            text.OffsetX = 9;
        }
    }

    private static void Finish(Plot plot, string title, string xLabel, string yLabel)
    {
        plot.Font.Set(SansFont);
        plot.Title(title, size: 14);
        plot.XLabel(xLabel, size: 13);
        plot.YLabel(yLabel, size: 13);
        plot.Legend.Alignment = Alignment.UpperLeft;
        plot.ShowLegend();
    }

    private static double MaxX(Dictionary<string, List<ModePoint>> byMode) => Math.Max(1, byMode.Values.SelectMany(p => p).Max(p => p.Offered));

    /// <summary>The bench command the reports share; a setting that differs between them is shown as "*" and warned about.</summary>
    private static string BenchCommandLine(IReadOnlyList<BenchFile> files, TextWriter warnings)
    {
        string Same<T>(string option, Func<BenchFile, T> value)
        {
            var values = files.Select(value).Distinct().ToList();
            if (values.Count == 1)
            {
                return Convert.ToString(values[0], Numbers) ?? "";
            }

            warnings.WriteLine($"plots: warning: the bench reports differ in {option} ({string.Join(", ", values)})");
            return "*";
        }

        var silos = files.All(f => f.SilosStarted is null) ? "" : $" --silos {Same("--silos", f => f.SilosStarted)}";
        return $"bench{silos} --orders {Same("--orders", f => f.Orders)} --messages {Same("--messages", f => f.MessagesPerRun)}" +
            $" --concurrency {Same("--concurrency", f => f.Concurrency)} --warmup {Same("--warmup", f => f.Warmup)}" +
            $" --rounds {Same("--rounds", f => f.Rounds)} --rate R";
    }

    /// <summary>The machine line: what --machine says, else the cores the bench saw.</summary>
    private static string Machine(IReadOnlyList<int> cores, string? machine) =>
        !string.IsNullOrWhiteSpace(machine) ? machine.Trim() : cores.Count == 0 ? "" : $"{string.Join(" / ", cores)} cores";

    private static string Shorten(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
