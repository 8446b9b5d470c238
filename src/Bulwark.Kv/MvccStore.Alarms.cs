using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv.Errors;

namespace Bulwark.Kv;

public sealed partial class MvccStore
{
    // Replicated alarms (etcd's alarm store): applied from the log, so every member holds the same set, and kept in the
    // snapshot, so a restart or a member restored from a snapshot keeps them. Not part of HashKV (etcd hashes only its
    // key bucket) and never bumps the revision. Ordered, so a snapshot writes them in one order on every member.
    private readonly SortedSet<(ulong Member, AlarmType Alarm)> alarms = [];

    /// <summary>The replicated alarms now active, by member id then type.</summary>
    public IReadOnlyList<AlarmMember> Alarms => [.. alarms.Select(a => new AlarmMember { MemberID = a.Member, Alarm = a.Alarm })];

    /// <summary>True while some member has a replicated <paramref name="alarm"/> active.</summary>
    public bool HasAlarm(AlarmType alarm) => alarms.Any(a => a.Alarm == alarm);

    /// <summary>
    /// Applies etcd's AlarmRequest as etcd's applier does: ACTIVATE adds the (member, alarm) pair and answers with it
    /// (also when it was already active); DEACTIVATE removes it and answers with it only when it was active; GET lists
    /// the active ones of that type (all for NONE).
    /// </summary>
    /// <exception cref="KvException">ACTIVATE or DEACTIVATE of alarm NONE: there is no such alarm to change.</exception>
    public AlarmResponse Alarm(AlarmRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        EnsureNotWriting();
        var response = new AlarmResponse();
        var pair = (request.MemberID, request.Alarm);
        switch (request.Action)
        {
            case AlarmRequest.Types.AlarmAction.Activate:
                RequireAlarm(request.Alarm);
                alarms.Add(pair);
                response.Alarms.Add(new AlarmMember { MemberID = pair.MemberID, Alarm = pair.Alarm });
                break;
            case AlarmRequest.Types.AlarmAction.Deactivate:
                RequireAlarm(request.Alarm);
                if (alarms.Remove(pair))
                {
                    response.Alarms.Add(new AlarmMember { MemberID = pair.MemberID, Alarm = pair.Alarm });
                }

                break;
            default:
                response.Alarms.Add(Alarms.Where(a => request.Alarm == AlarmType.None || a.Alarm == request.Alarm));
                break;
        }

        return response;
    }

    private static void RequireAlarm(AlarmType alarm)
    {
        if (alarm == AlarmType.None || !Enum.IsDefined(alarm))
        {
            throw KvErrors.UnknownAlarm(alarm);
        }
    }

    /// <summary>
    /// TEST-ONLY corruption hook: overwrites the current value of <paramref name="key"/> in place with
    /// <paramref name="value"/>, without a new revision, an event or the log; exactly what a bit flip in one member's
    /// store would do. It exists so tests can prove the cross-member corruption check catches such damage; nothing in
    /// production calls it (the serve option that does is documented as test-only). Returns false when the key does not
    /// exist now.
    /// </summary>
    public bool CorruptValueForTesting(byte[] key, byte[] value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        EnsureNotWriting();
        var record = index.Find(key);
        if (record is null || !record.IsLive)
        {
            return false;
        }

        liveDataBytes += value.Length - record.Latest.Value!.Length;
        record.Latest.Value = value;
        return true;
    }
}
