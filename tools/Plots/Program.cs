using ExactlyOnce.Plots;

// Draws the plots of docs/performance.md from JSON files (scripts/plots.sh runs it):
//   offered-load --out DIR [--machine TEXT] BENCH.json [BENCH.json ...]
//       (a) throughput and (b) p99 latency against the offered load, one line per delivery mode
//   state-size --out DIR [--machine TEXT] STATE-SIZE.json
//       (c) the stored bytes of one order's state against the messages it processed
// Exit codes: 0 written, 1 a file is missing or not the expected JSON, 2 usage.
const string Usage = "usage: plots offered-load --out DIR [--machine TEXT] BENCH.json [...]\n" +
                     "       plots state-size --out DIR [--machine TEXT] STATE-SIZE.json";

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? 2 : 0;
}

string? outDir = null;
string? machine = null;
var files = new List<string>();
for (var i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--out" when i + 1 < args.Length:
            outDir = args[++i];
            break;
        case "--machine" when i + 1 < args.Length:
            machine = args[++i];
            break;
        case var option when option.StartsWith("--", StringComparison.Ordinal):
            return Fail($"unknown option or missing value: {option}\n{Usage}", 2);
        default:
            files.Add(args[i]);
            break;
    }
}

if (outDir is null || files.Count == 0)
{
    return Fail($"--out and at least one JSON file are needed\n{Usage}", 2);
}

try
{
    IReadOnlyList<string> written;
    switch (args[0])
    {
        case "offered-load":
            var reports = files.Select(f => (f, Inputs.ReadBench(f))).ToList();
            Directory.CreateDirectory(outDir);
            written = Charts.OfferedLoad(reports, outDir, machine, Console.Error);
            break;
        case "state-size" when files.Count == 1:
            var sizes = Inputs.ReadStateSize(files[0]);
            Directory.CreateDirectory(outDir);
            written = Charts.StateSize(files[0], sizes, outDir, machine, Console.Error);
            break;
        case "state-size":
            return Fail("state-size takes one JSON file", 2);
        default:
            return Fail($"unknown plot '{args[0]}'\n{Usage}", 2);
    }

    foreach (var path in written)
    {
        Console.WriteLine(path);
    }

    return 0;
}
catch (InputException e)
{
    return Fail(e.Message, 1);
}
catch (IOException e)
{
    return Fail($"cannot write into {outDir}: {e.Message}", 1);
}

static int Fail(string message, int code)
{
    Console.Error.WriteLine($"plots: {message}");
    return code;
}
