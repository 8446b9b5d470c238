using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Bulwark.Server.Hosting;

/// <summary>
/// Ids for members added to a running cluster. etcd's MemberAdd carries no name, so the id cannot come from one
/// (founding members' ids do, <see cref="ClusterMember.IdFromName"/>); as etcd, it hashes the peer URLs, the cluster and
/// the time (SHA-256 here, first 8 bytes), so re-adding a machine at the same address later gives it a new id. An id in use
/// or ever removed is never handed out (the leader checks again before it proposes).
/// </summary>
public static class MemberIds
{
    public static ulong New(IReadOnlyList<string> peerUrls, ulong clusterId, DateTimeOffset now, Func<ulong, bool> taken)
    {
        ArgumentNullException.ThrowIfNull(peerUrls);
        ArgumentNullException.ThrowIfNull(taken);
        var seed = string.Concat(peerUrls.Order(StringComparer.Ordinal)) + clusterId.ToString("x", CultureInfo.InvariantCulture) +
            now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        for (var salt = 0; ; salt++)
        {
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(salt == 0 ? seed : seed + "#" + salt.ToString(CultureInfo.InvariantCulture)));
            var id = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(hash);
            if (id != 0 && !taken(id))
            {
                return id;
            }
        }
    }
}
