using System.Security.Cryptography;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Server.Backup;
using Bulwark.Server.Hosting;
using Grpc.Core;

namespace Bulwark.Server.Api;

/// <summary>
/// etcdserverpb.Maintenance: Status (what clients call on connect and `etcdctl endpoint status` shows), Alarm
/// (`etcdctl alarm list` / `alarm disarm`), Defragment (`etcdctl defrag`), HashKV (`etcdctl endpoint hashkv`),
/// MoveLeader (`etcdctl move-leader`) and Snapshot (`etcdctl snapshot save`).
/// </summary>
public sealed class MaintenanceService(NodeHost node) : Maintenance.MaintenanceBase
{
    /// <summary>The etcd API version Bulwark speaks (etcd v3.5 wire protocol).</summary>
    public const string ApiVersion = "3.5.0";

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        var status = node.Status;
        var response = new StatusResponse
        {
            Header = ApiContext.Header(node, null),
            Version = ApiVersion,
            DbSize = node.DiskBytes,
            DbSizeInUse = node.KvDataBytes,
            Leader = status.Leader,
            RaftIndex = status.Commit,
            RaftTerm = status.Term,
            RaftAppliedIndex = status.Applied,
            IsLearner = status.Role == Bulwark.Consensus.Role.Learner, // etcdctl endpoint status: IS LEARNER
        };
        return Task.FromResult(response);
    }

    /// <summary>
    /// etcd's Alarm RPC (`etcdctl alarm list` / `alarm disarm`). Two kinds of alarm: NOSPACE is this member's own and not
    /// replicated (it follows the disk: DEACTIVATE retries the held writes at once and answers with it if it was active,
    /// but it stays raised while the disk is full; ACTIVATE is accepted and changes nothing); CORRUPT is replicated
    /// through the log as etcd replicates its alarms, so every member lists it and refuses writes while it is active.
    /// ACTIVATE and DEACTIVATE of CORRUPT are proposed and answer with what the applied request changed (a member id of 0
    /// means this member; an id the cluster does not have is refused with etcd's "member not found"). GET lists this
    /// member's NOSPACE and every CORRUPT alarm, of the asked type (NONE: all) and member (0: all).
    /// </summary>
    public override Task<AlarmResponse> Alarm(AlarmRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ApiContext.Guard(async () =>
        {
            if (request.Action != AlarmRequest.Types.AlarmAction.Get)
            {
                RequireAdmin(context);
            }

            var response = request.Alarm == AlarmType.Corrupt && request.Action != AlarmRequest.Types.AlarmAction.Get
                ? await ChangeReplicatedAlarmAsync(request, context).ConfigureAwait(false)
                : LocalAlarm(request);
            response.Header = ApiContext.Header(node, response.Header);
            return response;
        });
    }

    private AlarmResponse LocalAlarm(AlarmRequest request)
    {
        var response = new AlarmResponse();
        switch (request.Action)
        {
            case AlarmRequest.Types.AlarmAction.Get:
                response.Alarms.Add(node.Alarms
                    .Where(a => (request.Alarm == AlarmType.None || a.Alarm == request.Alarm) && (request.MemberID == 0 || a.MemberId == request.MemberID))
                    .Select(a => new AlarmMember { MemberID = a.MemberId, Alarm = a.Alarm }));
                break;
            case AlarmRequest.Types.AlarmAction.Deactivate:
                if (node.NoSpaceAlarm && request.Alarm == AlarmType.Nospace && (request.MemberID == 0 || request.MemberID == node.MemberId))
                {
                    response.Alarms.Add(new AlarmMember { MemberID = node.MemberId, Alarm = AlarmType.Nospace });
                    node.RetryNoSpaceNow();
                }

                break;
        }

        return response;
    }

    private async Task<AlarmResponse> ChangeReplicatedAlarmAsync(AlarmRequest request, ServerCallContext context)
    {
        var change = request.Clone();
        if (change.MemberID == 0)
        {
            change.MemberID = node.MemberId;
        }

        if (change.Action == AlarmRequest.Types.AlarmAction.Activate && !node.Members.Any(m => m.Id == change.MemberID))
        {
            throw MaintenanceErrors.MemberNotFound();
        }

        var (response, _) = await ApiContext.ProposeAsync<AlarmResponse>(node, new Bulwark.Api.RaftCmd.RaftCommand { Alarm = change }, context)
            .ConfigureAwait(false);
        return response;
    }

    /// <summary>
    /// etcd's Defragment (`etcdctl defrag [--cluster]`): local to this member, not replicated, as in etcd. Writes a
    /// snapshot at the applied index, compacts the log to it (keeping the catch-up entries), deletes the older snapshot
    /// files and WAL segments, and compacts the .NET heap (see <see cref="NodeHost.DefragmentAsync"/>); answers when
    /// done. A full disk answers ResourceExhausted and changes nothing else (the member keeps serving); a stopping
    /// member answers Unavailable.
    /// </summary>
    public override Task<DefragmentResponse> Defragment(DefragmentRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return ApiContext.Guard(async () =>
        {
            RequireAdmin(context);
            try
            {
                await node.DefragmentAsync(context.CancellationToken).ConfigureAwait(false);
            }
            catch (Bulwark.Storage.DiskFullException e)
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted, $"etcdserver: defragment failed, no space left on this member's disk: {e.Message}"));
            }

            return new DefragmentResponse { Header = ApiContext.Header(node, null) };
        });
    }

    /// <summary>Size of each streamed chunk of a snapshot.</summary>
    public const int SnapshotChunkBytes = 64 * 1024;

    /// <summary>
    /// etcd's Snapshot (`etcdctl snapshot save`): this member's store at one revision, streamed in chunks, then its
    /// SHA-256 as a last 32-byte message, as etcd does (the file is <see cref="BackupFile"/>). The store is serialized
    /// under its lock into a temporary file in the data directory (writes wait for that, not for the streaming), then
    /// the file is streamed and deleted; memory use is one chunk, not a copy of the store.
    /// </summary>
    public override async Task Snapshot(SnapshotRequest request, IServerStreamWriter<SnapshotResponse> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(responseStream);
        ArgumentNullException.ThrowIfNull(context);
        RequireAdmin(context);
        StoreBackup backup;
        try
        {
            backup = await Task.Run(node.WriteBackup, context.CancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            // A full or failing disk under the data dir fails this call only; the member and its store are untouched.
            throw new RpcException(new Status(StatusCode.ResourceExhausted, $"cannot write the snapshot's temporary file in the data directory: {e.Message}"));
        }

        using var owned = backup;
        var file = backup.File;
        long total = file.Length;
        long sent = 0;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[SnapshotChunkBytes];
        var first = true;
        while (sent < total)
        {
            int n = await file.ReadAtLeastAsync(buffer, (int)Math.Min(buffer.Length, total - sent), throwOnEndOfStream: true, context.CancellationToken).ConfigureAwait(false);
            sent += n;
            sha.AppendData(buffer, 0, n);
            var chunk = new SnapshotResponse { RemainingBytes = (ulong)(total - sent), Blob = Google.Protobuf.ByteString.CopyFrom(buffer, 0, n) };
            if (first)
            {
                // The first message's header names the snapshot's revision (etcd's clients read it from there).
                chunk.Header = ApiContext.Header(node, null, backup.Revision);
                chunk.Version = ApiVersion;
                first = false;
            }

            await responseStream.WriteAsync(chunk, context.CancellationToken).ConfigureAwait(false);
        }

        await responseStream.WriteAsync(new SnapshotResponse { RemainingBytes = 0, Blob = Google.Protobuf.ByteString.CopyFrom(sha.GetHashAndReset()) }, context.CancellationToken)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// etcd's HashKV: a hash of this member's MVCC state up to a revision (0 = current), equal on every member that
    /// applied the same entries (see <see cref="Bulwark.Kv.MvccStore.HashKV"/>). Computed under the store's lock, so
    /// it sees one revision. Serializable, as in etcd: a member behind the others hashes what it has.
    /// </summary>
    public override Task<HashKVResponse> HashKV(HashKVRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ApiContext.Guard(() =>
        {
            RequireAdmin(context);
            var hash = node.Read(store => store.HashKV(request.Revision));
            return Task.FromResult(new HashKVResponse
            {
                Header = ApiContext.Header(node, null, hash.Revision),
                Hash = hash.Hash,
                CompactRevision = hash.CompactRevision,
                HashRevision = hash.HashRevision,
            });
        });
    }

    /// <summary>
    /// etcd's MoveLeader: only the leader takes it ("etcdserver: not leader"), the target must be a member ("etcdserver:
    /// bad leader transferee"); answers once this member sees the target lead, or fails after the request timeout.
    /// Moving to the leader itself succeeds at once, as in etcd.
    /// </summary>
    public override Task<MoveLeaderResponse> MoveLeader(MoveLeaderRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        return ApiContext.Guard(async () =>
        {
            RequireAdmin(context);
            if (!node.Status.IsLeader)
            {
                throw MaintenanceErrors.NotLeader();
            }

            if (!node.Members.Any(m => m.Id == request.TargetID))
            {
                throw MaintenanceErrors.BadLeaderTransferee();
            }

            if (!await node.TransferLeadershipAsync(request.TargetID, context.CancellationToken).ConfigureAwait(false))
            {
                throw MaintenanceErrors.LeaderTransferTimeout();
            }

            return new MoveLeaderResponse { Header = ApiContext.Header(node, null) };
        });
    }

    /// <summary>
    /// etcd's authMaintenanceServer: with auth on, what exposes or rewrites the whole store (snapshot, defragment, hash)
    /// needs the root role; Bulwark also asks it for alarm changes and leader moves, which etcd 3.4 leaves open. Status
    /// and alarm lists stay open. etcd 3.4 answers these refusals with its auth package's bare error (code Unknown,
    /// "auth: permission denied"), not the translated "etcdserver: ..." of other calls, and so does Bulwark.
    /// </summary>
    private void RequireAdmin(ServerCallContext context)
    {
        try
        {
            Auth.AuthGate.CheckAdmin(node, Auth.CallerCredentials.From(context));
        }
        catch (Bulwark.Kv.Errors.KvException e)
        {
            const string translated = "etcdserver: ";
            var bare = e.Message.StartsWith(translated, StringComparison.Ordinal) ? "auth: " + e.Message[translated.Length..] : e.Message;
            throw new RpcException(new Status(StatusCode.Unknown, bare));
        }
    }
}
