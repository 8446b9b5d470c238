using System.Text;
using CsCheck;

namespace Bulwark.Availability.Tests;

/// <summary>
/// `bulwark availability estimate` fed random and damaged journals: random bytes, valid journals cut at any byte, and
/// well-formed lines whose fields hold values of the wrong type. Every run ends in a result (exit 0) or a one-line
/// error in plain words (exit 2); any other exception would surface as System.CommandLine's exit 1 with a stack trace.
/// </summary>
public sealed class EstimateFuzzTests : IDisposable
{
    private static readonly string[] ValidJournals =
    [
        EstimationTests.SampleLog,
        JournalWithoutTransitionsTests.QuietJournal,
        """
        {"ts":"2026-12-01T00:00:00.000Z","event":"observation_start","nodes":["n1","n2","n3"],"observer":"n1"}
        {"ts":"2026-12-01T00:00:00.000Z","event":"node_down","node":"n3","reason":"down when this journal file was opened"}
        {"ts":"2026-12-01T00:05:00.000Z","event":"peer_recovered","node":"n3","reason":"heard from again"}
        {"ts":"2026-12-01T00:05:00.000Z","event":"node_up","node":"n3","reason":"heard from again by n1"}
        {"ts":"2026-12-01T02:00:00.000Z","event":"leader_changed","node":"n1","term":4}
        """,
    ];

    private static readonly string[] Kinds = ["observation_start", "observation_end", "node_down", "node_up", "leader_changed", "snapshot_taken", ""];

    private static readonly string[] Fields = ["ts", "event", "node", "nodes", "reason", "term"];

    /// <summary>A JSON value of any type, some of them the right type for some field.</summary>
    private static readonly Gen<string> AnyJsonValue = Gen.OneOf(
        Gen.Const("null"),
        Gen.Bool.Select(b => b ? "true" : "false"),
        Gen.Long.Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        Gen.Double.Select(d => double.IsFinite(d) ? d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) : "1e400"),
        Gen.String.Select(s => System.Text.Json.JsonSerializer.Serialize(s)),
        Gen.OneOf(Gen.Const("2026-12-01T00:00:00Z"), Gen.Const("0001-01-01T00:00:00Z"), Gen.Const("9999-12-31T23:59:59.9999999Z"), Gen.Const("2026-12-01T05:00:00+14:00"), Gen.Const("2026-13-45T99:99:99Z"))
            .Select(s => $"\"{s}\""),
        Gen.OneOf(Kinds).Select(k => $"\"{k}\""),
        Gen.OneOf(Gen.Const("[]"), Gen.Const("[\"n1\",\"n2\"]"), Gen.Const("[\"n1\",\"n1\"]"), Gen.Const("[\"\"]"), Gen.Const("[1,null]"), Gen.Const("{}"), Gen.Const("{\"a\":[{}]}")));

    /// <summary>A line that is a JSON object (or, now and then, another JSON value) with the usual fields, typed at random.</summary>
    private static readonly Gen<string> WrongTypeLine = Gen.Frequency(
        (9, Gen.Select(Gen.OneOf(Fields).Select(f => (f, AnyJsonValue)).SelectMany(p => p.AnyJsonValue.Select(v => $"\"{p.f}\":{v}")).Array[0, 6], fields => "{" + string.Join(",", fields) + "}")),
        (1, AnyJsonValue));

    private static readonly Gen<byte[]> Journal = Gen.OneOf(
        Gen.Byte.Array[0, 600],
        Gen.Select(Gen.OneOf(ValidJournals), Gen.Double[0, 1], (text, cut) =>
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            return bytes[..(int)(bytes.Length * cut)];
        }),
        Gen.Select(Gen.OneOf(ValidJournals), WrongTypeLine.Array[1, 4], Gen.Int[0, 8], (text, lines, at) =>
        {
            var all = text.Split('\n').ToList();
            all.InsertRange(Math.Min(at, all.Count), lines);
            return Encoding.UTF8.GetBytes(string.Join('\n', all));
        }),
        WrongTypeLine.Array[0, 12].Select(lines => Encoding.UTF8.GetBytes(string.Join('\n', lines))));

    /// <summary>Options given along with the log, sometimes nonsensical.</summary>
    private static readonly Gen<string[]> Options = Gen.OneOf(
        Gen.Const(Array.Empty<string>()),
        Gen.Const(new[] { "--json" }),
        Gen.Int[-1, 5].Select(n => new[] { "--nodes", n.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
        Gen.Double[-1, 10].Select(h => new[] { "--mttr-hours", h.ToString("R", System.Globalization.CultureInfo.InvariantCulture) }));

    private readonly string dir = Directory.CreateTempSubdirectory("bulwark-estimate-fuzz-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public async Task Random_and_damaged_journals_give_a_result_or_a_clean_error()
    {
        await Gen.Select(Journal, Options).SampleAsync(
            async (bytes, options) =>
            {
                var log = Path.Combine(dir, Guid.NewGuid().ToString("N") + ".jsonl");
                await File.WriteAllBytesAsync(log, bytes);
                var (code, output, error) = await JournalWithoutTransitionsTests.RunEstimate(["--log", log, .. options]);
                File.Delete(log);
                if (code == 0)
                {
                    Assert.True(output.Length > 0 && error.Length == 0, error);
                }
                else
                {
                    Assert.True(code == 2, $"exit {code}: {error}");
                    Assert.StartsWith("error: ", error, StringComparison.Ordinal);
                    Assert.DoesNotContain("\n", error.TrimEnd('\n'), StringComparison.Ordinal);
                    Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
                }
            },
            iter: 3000,
            threads: 1,
            print: t => $"options [{string.Join(' ', t.Item2)}], log (base64) {Convert.ToBase64String(t.Item1)}");
    }
}
