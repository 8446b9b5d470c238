using System.CommandLine;
using Bulwark.Availability;
using Bulwark.Availability.Markov;
using static Bulwark.Cli.Commands.AvailabilityOutput;

namespace Bulwark.Cli.Commands;

/// <summary>`bulwark availability dtmc` and `ctmc`: any finite chain given as a matrix.</summary>
internal static class AvailabilityChainCommands
{
    private const int MaxListedSteps = 24;

    public static Command CreateDiscrete()
    {
        var matrix = new Option<string?>("--matrix") { Description = "Transition matrix, rows split by ';', entries by ',': \"0.99,0.01;0.5,0.5\"." };
        var p01 = new Option<double?>("--p01") { Description = "Two-state model: failure probability per step (instead of --matrix)." };
        var p10 = new Option<double?>("--p10") { Description = "Two-state model: repair probability per step (instead of --matrix)." };
        var steps = new Option<int>("--steps") { Description = "Also give the distribution after 1..n steps.", DefaultValueFactory = _ => 0 };
        var start = new Option<int>("--start") { Description = "Start state for --steps.", DefaultValueFactory = _ => 0 };
        var json = NewJsonOption();
        var command = new Command("dtmc", "Discrete-time Markov chain: steady state, n-step distribution, sojourn times; closed forms for the two-state model.");
        foreach (var o in new Option[] { matrix, p01, p10, steps, start, json })
        {
            command.Options.Add(o);
        }

        command.SetAction(parse => Run(parse, output =>
        {
            TwoStateChain? twoState = null;
            DiscreteTimeMarkovChain chain;
            string? text = parse.GetValue(matrix);
            if (text is not null)
            {
                if (parse.GetValue(p01) is not null || parse.GetValue(p10) is not null)
                {
                    throw new AvailabilityInputException("matrix", "give either --matrix or --p01/--p10, not both");
                }

                chain = new DiscreteTimeMarkovChain(ParseMatrix(text, "matrix"));
            }
            else
            {
                double a = parse.GetValue(p01) ?? throw new AvailabilityInputException("p01", "give --matrix, or both --p01 and --p10");
                double b = parse.GetValue(p10) ?? throw new AvailabilityInputException("p10", "give --matrix, or both --p01 and --p10");
                twoState = new TwoStateChain(a, b);
                chain = twoState.ToChain();
            }

            int n = parse.GetValue(steps);
            if (n < 0)
            {
                throw new AvailabilityInputException("steps", $"--steps is {n}; it must be ≥ 0");
            }

            int from = parse.GetValue(start);
            if (from < 0 || from >= chain.StateCount)
            {
                throw new AvailabilityInputException("start", $"--start is {from}; states are 0..{chain.StateCount - 1}");
            }

            var pi = chain.SteadyState();
            var sojourn = chain.MeanSojournSteps();
            var listed = n == 0 ? [] : n <= MaxListedSteps ? Enumerable.Range(1, n).ToArray() : new[] { n };
            var distributions = listed.Select(s => chain.Distribution(from, s)).ToArray();

            if (parse.GetValue(json))
            {
                WriteJson(output, new
                {
                    states = chain.StateNames,
                    steadyState = pi,
                    meanSojournSteps = sojourn,
                    meanRecurrenceSteps = chain.MeanRecurrenceSteps(),
                    start = from,
                    distributions = listed.Select((s, i) => new { step = s, distribution = distributions[i] }).ToArray(),
                    twoState = twoState is null ? null : new
                    {
                        twoState.P01,
                        twoState.P10,
                        steadyStateAvailability = twoState.SteadyStateAvailability,
                        steadyStateUnavailability = twoState.SteadyStateUnavailability,
                        meanUpSteps = twoState.MeanUpSteps,
                        meanDownSteps = twoState.MeanDownSteps,
                        eigenvalue = twoState.Eigenvalue,
                    },
                });
                return 0;
            }

            var rows = new List<(string, string)?>();
            for (int i = 0; i < chain.StateCount; i++)
            {
                rows.Add(($"state {chain.StateNames[i]}", $"π = {Probability(pi[i])}   mean sojourn {Number(sojourn[i])} steps"));
            }

            if (twoState is not null)
            {
                rows.Add(null);
                rows.Add(("availability p10/(p01+p10)", Probability(twoState.SteadyStateAvailability)));
                rows.Add(("unavailability p01/(p01+p10)", Small(twoState.SteadyStateUnavailability)));
                rows.Add(("mean up run 1/p01", $"{Number(twoState.MeanUpSteps)} steps"));
                rows.Add(("mean down run 1/p10", $"{Number(twoState.MeanDownSteps)} steps"));
            }

            for (int i = 0; i < listed.Length; i++)
            {
                if (i == 0)
                {
                    rows.Add(null);
                }

                string dist = string.Join("  ", distributions[i].Select(p => Probability(p)));
                rows.Add(($"after {listed[i]} step(s) from {chain.StateNames[from]}", dist));
            }

            WriteTable(output, twoState is null ? "Discrete-time Markov chain" : "Two-state discrete-time chain (state up, down)", rows);
            return 0;
        }));
        return command;
    }

    public static Command CreateContinuous()
    {
        var generator = new Option<string>("--generator") { Description = "Generator matrix Q (rates per hour), rows split by ';': \"-0.001,0.001;1,-1\".", Required = true };
        var up = new Option<int[]>("--up") { Description = "Indices of the up states (enables availability and MTTF).", AllowMultipleArgumentsPerToken = true };
        var start = new Option<int>("--start") { Description = "Start state for transient figures and MTTF.", DefaultValueFactory = _ => 0 };
        var at = new Option<double[]>("--at-hours") { Description = "Give the transient distribution at these times (hours).", AllowMultipleArgumentsPerToken = true };
        var json = NewJsonOption();
        var command = new Command("ctmc", "Continuous-time Markov chain: steady state (GTH), transient by uniformization, MTTF through absorption.");
        foreach (var o in new Option[] { generator, up, start, at, json })
        {
            command.Options.Add(o);
        }

        command.SetAction(parse => Run(parse, output =>
        {
            var chain = ContinuousTimeMarkovChain.FromGenerator(ParseMatrix(parse.GetValue(generator)!, "generator"));
            int from = parse.GetValue(start);
            if (from < 0 || from >= chain.StateCount)
            {
                throw new AvailabilityInputException("start", $"--start is {from}; states are 0..{chain.StateCount - 1}");
            }

            var upStates = (parse.GetValue(up) ?? []).Distinct().ToArray();
            if (upStates.Any(s => s < 0 || s >= chain.StateCount))
            {
                throw new AvailabilityInputException("up", $"--up names a state outside 0..{chain.StateCount - 1}");
            }

            var times = (parse.GetValue(at) ?? []).OrderBy(t => t).ToArray();
            var initial = new double[chain.StateCount];
            initial[from] = 1;
            var pi = chain.SteadyState();
            var transient = times.Length > 0 ? chain.Transient(initial, times) : [];
            var down = Enumerable.Range(0, chain.StateCount).Where(s => !upStates.Contains(s)).ToHashSet();
            double? availability = upStates.Length > 0 ? upStates.Sum(s => pi[s]) : null;
            double? unavailability = upStates.Length > 0 ? down.Sum(s => pi[s]) : null;
            double? mttf = upStates.Length > 0 && down.Count > 0 ? chain.MeanTimeToAbsorption(initial, down) : null;

            if (parse.GetValue(json))
            {
                WriteJson(output, new
                {
                    steadyState = pi,
                    availability,
                    unavailability,
                    meanTimeToFailureHours = mttf,
                    start = from,
                    transient = times.Select((t, i) => new
                    {
                        hours = t,
                        distribution = transient[i],
                        availability = upStates.Length > 0 ? upStates.Sum(s => transient[i][s]) : (double?)null,
                    }).ToArray(),
                });
                return 0;
            }

            var rows = new List<(string, string)?>();
            for (int i = 0; i < chain.StateCount; i++)
            {
                rows.Add(($"state {i}{(upStates.Contains(i) ? " (up)" : "")}", $"π = {Probability(pi[i])}"));
            }

            if (availability is { } a)
            {
                rows.Add(null);
                rows.Add(("availability", Probability(a)));
                rows.Add(("unavailability", Small(unavailability!.Value)));
                if (mttf is { } m)
                {
                    rows.Add(($"MTTF from state {from}", Hours(m)));
                }
            }

            for (int i = 0; i < times.Length; i++)
            {
                if (i == 0)
                {
                    rows.Add(null);
                }

                string value = upStates.Length > 0
                    ? $"A = {Probability(upStates.Sum(s => transient[i][s]))}"
                    : string.Join("  ", transient[i].Select(p => Probability(p)));
                rows.Add(($"t = {Number(times[i])} h", value));
            }

            WriteTable(output, "Continuous-time Markov chain", rows);
            return 0;
        }));
        return command;
    }
}
