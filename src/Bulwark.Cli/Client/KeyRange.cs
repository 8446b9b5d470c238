using Google.Protobuf;

namespace Bulwark.Cli.Client;

/// <summary>
/// The [key, range_end) a get or del names, by etcdctl's rules: one key; KEY RANGE_END; --prefix (every key starting
/// with KEY; with an empty KEY, every key); --from-key (every key ≥ KEY; with an empty KEY, every key). etcd reads a
/// range_end of "\0" as "to the end of the keyspace", and an empty key with it as "\0", the smallest key.
/// </summary>
public static class KeyRange
{
    private static readonly ByteString Zero = ByteString.CopyFrom(0);

    public static (ByteString Key, ByteString RangeEnd) Build(ByteString key, ByteString? rangeEnd, bool prefix, bool fromKey)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (prefix && fromKey)
        {
            throw new ClientInputException("prefix", "--prefix and --from-key cannot be set at the same time; choose one");
        }

        if (rangeEnd is not null && (prefix || fromKey))
        {
            throw new ClientInputException("range_end", $"a range end and {(prefix ? "--prefix" : "--from-key")} cannot be given together; give one");
        }

        if (prefix || fromKey)
        {
            if (key.IsEmpty)
            {
                return (Zero, Zero);
            }

            return (key, prefix ? TxnSyntax.PrefixEnd(key) : Zero);
        }

        if (key.IsEmpty)
        {
            throw new ClientInputException("key", "the key is empty (to list every key: get \"\" --prefix)");
        }

        return (key, rangeEnd ?? ByteString.Empty);
    }
}
