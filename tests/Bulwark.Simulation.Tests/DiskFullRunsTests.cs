using Bulwark.Simulation;

namespace Bulwark.Simulation.Tests;

/// <summary>
/// The diskfull fault really exercises the production host's disk-full handling (DiskFullPolicy): across a few seeds
/// hosts hold their writes, refuse calls under the NOSPACE alarm and resume, and every checker stays green.
/// </summary>
public sealed class DiskFullRunsTests
{
    [Fact]
    public void FilledDisksHoldWritesRefuseCallsAndResume()
    {
        int holds = 0, resumes = 0, refusals = 0;
        for (ulong seed = 1; seed <= 20; seed++)
        {
            var result = ClusterSimulation.Run(new SimulationOptions(seed, seed % 2 == 0 ? 5 : 3, "all"));
            Assert.True(result.Passed, result.Describe());
            Assert.Contains("diskfull", result.Plan.Kinds().Split(','));
            holds += result.Stats.WriteHolds;
            resumes += result.Stats.WriteResumes;
            refusals += result.Stats.NoSpaceRefusals;
            // A hold ends by a resume or by a crash of its node (the fill ends with the process), never stays forever.
            Assert.True(result.Stats.WriteResumes <= result.Stats.WriteHolds, result.Describe());
        }

        Assert.True(holds > 0, "no host ever held its writes");
        Assert.True(resumes > 0, "no host ever resumed after a full disk");
        Assert.True(refusals > 0, "no call was refused under the NOSPACE alarm");
    }

    [Fact]
    public void TheDiskFullKindComesFromItsOwnStream()
    {
        // In "mixed" about 40 % of seeds get it; "all" always, "calm" never.
        var withKind = Enumerable.Range(1, 200).Select(s => FaultPlan.For((ulong)s, 3, "mixed")).Count(p => p.DiskFull);
        Assert.InRange(withKind, 40, 120);
        Assert.True(FaultPlan.For(1, 3, "all").DiskFull);
        Assert.False(FaultPlan.For(1, 3, "calm").DiskFull);
    }
}
