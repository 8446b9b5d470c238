using System.Security.Cryptography;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Kv;
using Bulwark.Server.Backup;
using Google.Protobuf;

namespace Bulwark.Server.Tests.Backup;

/// <summary>The backup file (store snapshot + SHA-256 trailer): what it reports and what it refuses.</summary>
public sealed class BackupFileTests
{
    private static byte[] File(int keys)
    {
        var store = new MvccStore();
        for (var i = 0; i < keys; i++)
        {
            store.Put(new PutRequest { Key = ByteString.CopyFromUtf8($"k{i}"), Value = ByteString.CopyFromUtf8($"v{i}") });
        }

        store.Put(new PutRequest { Key = ByteString.CopyFromUtf8("k0"), Value = ByteString.CopyFromUtf8("again") });
        using var bytes = new MemoryStream();
        store.WriteSnapshot(bytes);
        var body = bytes.ToArray();
        return [.. body, .. SHA256.HashData(body)];
    }

    [Fact]
    public void Reports_revision_live_keys_size_and_hash()
    {
        var file = File(10);
        var summary = BackupFile.Read(new MemoryStream(file));
        Assert.Equal(12, summary.Revision); // a new store is at revision 1, as etcd
        Assert.Equal(10, summary.TotalKeys);
        Assert.Equal(file.Length, summary.TotalBytes);
        Assert.Equal(Convert.ToHexStringLower(file[^32..]), summary.Hash);
    }

    [Fact]
    public void Refuses_a_truncated_file()
    {
        var file = File(10);
        foreach (var length in new[] { 0, 20, file.Length - 1, file.Length - 40 })
        {
            var e = Assert.Throws<InvalidDataException>(() => BackupFile.Read(new MemoryStream(file[..length])));
            Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Refuses_a_corrupted_byte_anywhere()
    {
        var file = File(10);
        foreach (var at in new[] { 0, file.Length / 2, file.Length - 33, file.Length - 1 })
        {
            var bad = (byte[])file.Clone();
            bad[at] ^= 0x40;
            var e = Assert.Throws<InvalidDataException>(() => BackupFile.Read(new MemoryStream(bad)));
            Assert.Contains("corrupted", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Refuses_a_file_whose_trailer_matches_but_is_not_a_store_snapshot()
    {
        var body = "not a bulwark snapshot at all"u8.ToArray();
        byte[] file = [.. body, .. SHA256.HashData(body)];
        Assert.Throws<InvalidDataException>(() => BackupFile.Read(new MemoryStream(file)));
    }
}
