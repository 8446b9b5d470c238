namespace Bulwark.Consensus;

/// <summary>Leadership transfer (dissertation §3.10): catch the target up, then tell it to campaign at once.</summary>
public sealed partial class RaftNode
{
    /// <summary>
    /// Asks the leader to hand leadership to <paramref name="target"/> once it is caught up. Proposals are refused
    /// until the transfer ends; it is abandoned after an election timeout. Ignored on a non-leader, for this node
    /// itself, and for a target that is not a voter.
    /// </summary>
    public void TransferLeadership(ulong target)
    {
        if (role != Role.Leader || target == Id || leadTransferee == target)
        {
            return;
        }

        var progress = tracker.Get(target);
        if (progress is null || progress.IsLearner)
        {
            return;
        }

        leadTransferee = target;
        // The transfer gets one election timeout to finish.
        electionElapsed = 0;
        if (progress.Match == log.LastIndex)
        {
            SendTimeoutNow(target);
        }
        else
        {
            SendAppend(progress, sendIfEmpty: true);
        }

        AssertInvariants();
    }

    private void SendTimeoutNow(ulong to) =>
        Send(new Message { Type = MessageType.TimeoutNow, From = Id, To = to, Term = term });
}
