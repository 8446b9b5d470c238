using Bulwark.Server.Hosting;
using Grpc.Core;

namespace Bulwark.Server.Api.Watches;

/// <summary>
/// etcd's "require leader" for streams (clientv3.WithRequireLeader, which etcd's and Bulwark's clients put on watches
/// as the metadata <c>hasleader: true</c>): such a stream is refused with "etcdserver: no leader" on a member that knows
/// no leader, and ended with the same error once the member has known none for <see cref="MaxLeaderlessChecks"/>
/// election timeouts in a row, so the client resumes it on a member that still hears the cluster. Without it, a watch on a
/// member cut off from the others stays open and silent for as long as the partition lasts. Checked once per election
/// timeout, as etcd's monitorLeader does.
/// </summary>
public sealed class LeaderlessStreams : IDisposable
{
    /// <summary>The metadata key and value a client sends to ask for this.</summary>
    public const string MetadataKey = "hasleader";

    public const string MetadataValue = "true";

    /// <summary>Election timeouts without a leader before open streams end (etcd's maxNoLeaderCnt).</summary>
    public const int MaxLeaderlessChecks = 3;

    private readonly Func<bool> hasLeader;
    private readonly Lock gate = new();
    private readonly HashSet<Registration> streams = [];
    private readonly ITimer timer;
    private int leaderlessChecks;

    public LeaderlessStreams(NodeHost node, TimeProvider? time = null)
        : this(() => node.Status.Leader != 0, node.Options.ElectionTimeout, time)
    {
    }

    internal LeaderlessStreams(Func<bool> hasLeader, TimeSpan checkEvery, TimeProvider? time = null)
    {
        this.hasLeader = hasLeader;
        timer = (time ?? TimeProvider.System).CreateTimer(_ => Check(), null, checkEvery, checkEvery);
    }

    /// <summary>Whether the call asked to be served only while this member knows a leader.</summary>
    public static bool Requested(ServerCallContext context) =>
        context?.RequestHeaders.GetValue(MetadataKey) == MetadataValue;

    /// <summary>etcd's ErrGRPCNoLeader.</summary>
    public static RpcException NoLeader() => new(new Status(StatusCode.Unavailable, NodeErrorStatus.NoLeaderMessage));

    /// <summary>
    /// Starts watching a stream: refused at once (<see cref="NoLeader"/>) when this member knows no leader; otherwise
    /// the registration's token is cancelled with the call, or when the member has been leaderless too long.
    /// </summary>
    public Registration Register(CancellationToken callEnded)
    {
        if (!hasLeader())
        {
            throw NoLeader();
        }

        var registration = new Registration(this, callEnded);
        lock (gate)
        {
            streams.Add(registration);
        }

        return registration;
    }

    internal void Check()
    {
        Registration[] ending;
        lock (gate)
        {
            leaderlessChecks = hasLeader() ? 0 : leaderlessChecks + 1;
            if (leaderlessChecks < MaxLeaderlessChecks || streams.Count == 0)
            {
                return;
            }

            ending = [.. streams];
            streams.Clear();
        }

        foreach (var stream in ending)
        {
            stream.EndForNoLeader();
        }
    }

    public void Dispose() => timer.Dispose();

    private void Remove(Registration registration)
    {
        lock (gate)
        {
            streams.Remove(registration);
        }
    }

    /// <summary>One stream that asked for a leader: use <see cref="Token"/> for the call's work, dispose at its end.</summary>
    public sealed class Registration : IDisposable
    {
        private readonly LeaderlessStreams owner;
        private readonly CancellationTokenSource cancel;
        private int lostLeader;

        internal Registration(LeaderlessStreams owner, CancellationToken callEnded)
        {
            this.owner = owner;
            cancel = CancellationTokenSource.CreateLinkedTokenSource(callEnded);
        }

        public CancellationToken Token => cancel.Token;

        /// <summary>The stream was ended because this member lost its leader: answer <see cref="NoLeader"/>.</summary>
        public bool LostLeader => Volatile.Read(ref lostLeader) == 1;

        internal void EndForNoLeader()
        {
            Volatile.Write(ref lostLeader, 1);
            try
            {
                cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // the call ended meanwhile
            }
        }

        public void Dispose()
        {
            owner.Remove(this);
            cancel.Dispose();
        }
    }
}
