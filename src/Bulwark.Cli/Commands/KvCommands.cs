using System.CommandLine;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Cli.Client;
using Google.Protobuf;

namespace Bulwark.Cli.Commands;

/// <summary>
/// `bulwark put/get/del/txn`: the etcd v3 KV calls from the command line, printing what etcdctl prints (or JSON).
/// </summary>
public static class KvCommands
{
    /// <summary>`bulwark put KEY VALUE`.</summary>
    public static Command Put()
    {
        var key = new Argument<string>("key") { Description = "The key to write." };
        var value = new Argument<string>("value") { Description = "The value to store." };
        var command = new Command("put", "Write a key (prints OK, or the new revision with --json).") { key, value };
        ClientCommand.SetClientAction(command, async (parse, connection, output, json, cancellation) =>
        {
            var request = new PutRequest { Key = Key(parse.GetValue(key)), Value = ByteString.CopyFromUtf8(parse.GetValue(value) ?? "") };
            var response = await connection.CallAsync((i, options) => connection.Kv(i).PutAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            KvPrinter.Put(output, response, json);
            return 0;
        });
        return command;
    }

    /// <summary>`bulwark get KEY [--prefix] [--rev N] [--serializable]`.</summary>
    public static Command Get()
    {
        var key = new Argument<string>("key") { Description = "The key to read (or the prefix, with --prefix)." };
        var prefix = new Option<bool>("--prefix") { Description = "Read every key that starts with KEY." };
        var revision = new Option<long>("--rev") { Description = "Read the store as of this revision (0: the latest)." };
        var serializable = new Option<bool>("--serializable") { Description = "Answer from the contacted member's own store without confirming it is current." };
        var command = new Command("get", "Read a key or a prefix (prints key and value lines, like etcdctl).") { key, prefix, revision, serializable };
        ClientCommand.SetClientAction(command, async (parse, connection, output, json, cancellation) =>
        {
            var rev = parse.GetValue(revision);
            if (rev < 0)
            {
                throw new ClientInputException("rev", $"--rev is {rev}; it must be 0 (latest) or a revision > 0");
            }

            var request = new RangeRequest { Key = Key(parse.GetValue(key)), Revision = rev, Serializable = parse.GetValue(serializable) };
            if (parse.GetValue(prefix))
            {
                request.RangeEnd = TxnSyntax.PrefixEnd(request.Key);
            }

            var response = await connection.CallAsync((i, options) => connection.Kv(i).RangeAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            KvPrinter.Range(output, response, json);
            return 0;
        });
        return command;
    }

    /// <summary>`bulwark del KEY [--prefix]`.</summary>
    public static Command Del()
    {
        var key = new Argument<string>("key") { Description = "The key to delete (or the prefix, with --prefix)." };
        var prefix = new Option<bool>("--prefix") { Description = "Delete every key that starts with KEY." };
        var command = new Command("del", "Delete a key or a prefix (prints how many keys were deleted).") { key, prefix };
        ClientCommand.SetClientAction(command, async (parse, connection, output, json, cancellation) =>
        {
            var request = new DeleteRangeRequest { Key = Key(parse.GetValue(key)) };
            if (parse.GetValue(prefix))
            {
                request.RangeEnd = TxnSyntax.PrefixEnd(request.Key);
            }

            var response = await connection.CallAsync((i, options) => connection.Kv(i).DeleteRangeAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            KvPrinter.Delete(output, response, json);
            return 0;
        });
        return command;
    }

    /// <summary>
    /// `bulwark txn`: compares and then/else operations given as --compare/--then/--else lines, or (with none of
    /// them) read from stdin in etcdctl's form: compares, a blank line, then-operations, a blank line, else-operations.
    /// </summary>
    public static Command Txn()
    {
        var compares = new Option<string[]>("--compare") { Description = "A compare, e.g. 'value(\"k\") = \"v\"' or 'mod(\"k\") > \"5\"' (repeatable).", AllowMultipleArgumentsPerToken = false };
        var then = new Option<string[]>("--then") { Description = "An operation when every compare holds: 'put K V', 'get K [--prefix]', 'del K [--prefix]' (repeatable)." };
        var otherwise = new Option<string[]>("--else") { Description = "An operation when a compare fails (repeatable)." };
        var command = new Command("txn", "Run a transaction: if every compare holds, the then-operations, else the else-operations, atomically. Without --compare/--then/--else it reads etcdctl's txn format from stdin.")
        {
            compares, then, otherwise,
        };
        ClientCommand.SetClientAction(command, async (parse, connection, output, json, cancellation) =>
        {
            var c = parse.GetValue(compares) ?? [];
            var t = parse.GetValue(then) ?? [];
            var e = parse.GetValue(otherwise) ?? [];
            var request = c.Length + t.Length + e.Length > 0
                ? TxnSyntax.Build(c, t, e)
                : TxnSyntax.ParseScript(await Console.In.ReadToEndAsync(cancellation).ConfigureAwait(false));
            var response = await connection.CallAsync((i, options) => connection.Kv(i).TxnAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            KvPrinter.Txn(output, response, json);
            return 0;
        });
        return command;
    }

    private static ByteString Key(string? key) =>
        string.IsNullOrEmpty(key) ? throw new ClientInputException("key", "the key is empty") : ByteString.CopyFromUtf8(key);
}
