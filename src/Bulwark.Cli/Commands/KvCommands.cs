using System.CommandLine;
using Bulwark.Api.Etcdserverpb;
using Bulwark.Cli.Client;
using Google.Protobuf;

namespace Bulwark.Cli.Commands;

/// <summary>
/// `bulwark put/get/del/txn`: the etcd v3 KV calls from the command line, taking and printing keys and values as bytes
/// (or hex with --hex), with etcdctl's flags and output (-w simple|json|table).
/// </summary>
public static class KvCommands
{
    /// <summary>`bulwark put KEY [VALUE] [--value-file PATH] [--hex] [--prev-kv]`; no VALUE and no file: the value is stdin.</summary>
    public static Command Put()
    {
        var key = new Argument<string>("key") { Description = "The key to write." };
        var value = new Argument<string?>("value") { Description = "The value to store. Omitted: read from --value-file, or else all of stdin, byte for byte.", Arity = ArgumentArity.ZeroOrOne };
        var valueFile = new Option<string?>("--value-file") { Description = "Read the value from this file, byte for byte." };
        var hex = HexOption();
        var prevKv = new Option<bool>("--prev-kv") { Description = "Also print the key-value pair before this put." };
        var command = new Command("put", "Write a key (prints OK).") { key, value, valueFile, hex, prevKv };
        ClientCommand.SetClientAction(command, async (parse, connection, output, format, cancellation) =>
        {
            var isHex = parse.GetValue(hex);
            var request = new PutRequest
            {
                Key = Key(PositionalArguments.Checked(parse, parse.GetValue(key), "key"), isHex),
                Value = ValueInput.Read(PositionalArguments.Checked(parse, parse.GetValue(value), "value"), parse.GetValue(valueFile), isHex, Console.OpenStandardInput, !Console.IsInputRedirected),
                PrevKv = parse.GetValue(prevKv),
            };
            var response = await connection.CallAsync((i, options) => connection.Kv(i).PutAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            KvPrinter.Put(new ByteOutput(output), response, new KvView(format, isHex));
            return 0;
        });
        return command;
    }

    /// <summary>`bulwark get KEY [RANGE_END]` with etcdctl's get flags.</summary>
    public static Command Get()
    {
        var key = new Argument<string>("key") { Description = "The key to read (the prefix with --prefix, the first key with --from-key; \"\" with either: every key)." };
        var rangeEnd = RangeEndArgument();
        var prefix = new Option<bool>("--prefix") { Description = "Read every key that starts with KEY." };
        var fromKey = new Option<bool>("--from-key") { Description = "Read every key greater than or equal to KEY." };
        var limit = new Option<long>("--limit") { Description = "Return at most this many keys (0: no limit)." };
        var keysOnly = new Option<bool>("--keys-only") { Description = "Return keys without values." };
        var countOnly = new Option<bool>("--count-only") { Description = "Return only the number of keys." };
        var valuesOnly = new Option<bool>("--print-value-only") { Description = "Print only values (simple output)." };
        var sortBy = new Option<string?>("--sort-by") { Description = "Sort by CREATE, KEY, MODIFY, VALUE or VERSION." };
        var order = new Option<string?>("--order") { Description = "Sort order: ASCEND or DESCEND." };
        var revision = new Option<long>("--rev") { Description = "Read the store as of this revision (0: the latest)." };
        var serializable = new Option<bool>("--serializable") { Description = "Answer from the contacted member's own store without confirming it is current." };
        var hex = HexOption();
        var command = new Command("get", "Read a key or a range (prints key and value lines, like etcdctl).")
        {
            key, rangeEnd, prefix, fromKey, limit, keysOnly, countOnly, valuesOnly, sortBy, order, revision, serializable, hex,
        };
        ClientCommand.SetClientAction(command, async (parse, connection, output, format, cancellation) =>
        {
            var isHex = parse.GetValue(hex);
            var rev = parse.GetValue(revision);
            if (rev < 0)
            {
                throw new ClientInputException("rev", $"--rev is {rev}; it must be 0 (latest) or a revision > 0");
            }

            var max = parse.GetValue(limit);
            if (max < 0)
            {
                throw new ClientInputException("limit", $"--limit is {max}; it must be 0 (no limit) or a number of keys > 0");
            }

            var (from, to) = KeyRange.Build(Bytes(PositionalArguments.Checked(parse, parse.GetValue(key), "key"), isHex, "key"), RangeEnd(PositionalArguments.Checked(parse, parse.GetValue(rangeEnd), "range_end"), isHex), parse.GetValue(prefix), parse.GetValue(fromKey));
            var request = new RangeRequest
            {
                Key = from,
                RangeEnd = to,
                Revision = rev,
                Serializable = parse.GetValue(serializable),
                Limit = max,
                KeysOnly = parse.GetValue(keysOnly),
                CountOnly = parse.GetValue(countOnly),
                SortTarget = SortTarget(parse.GetValue(sortBy)),
                SortOrder = SortOrder(parse.GetValue(order)),
            };
            var response = await connection.CallAsync((i, options) => connection.Kv(i).RangeAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            KvPrinter.Range(new ByteOutput(output), response, new KvView(format, isHex, request.KeysOnly, parse.GetValue(valuesOnly), request.CountOnly));
            return 0;
        });
        return command;
    }

    /// <summary>`bulwark del KEY [RANGE_END] [--prefix | --from-key] [--prev-kv] [--hex]`.</summary>
    public static Command Del()
    {
        var key = new Argument<string>("key") { Description = "The key to delete (the prefix with --prefix, the first key with --from-key)." };
        var rangeEnd = RangeEndArgument();
        var prefix = new Option<bool>("--prefix") { Description = "Delete every key that starts with KEY." };
        var fromKey = new Option<bool>("--from-key") { Description = "Delete every key greater than or equal to KEY." };
        var prevKv = new Option<bool>("--prev-kv") { Description = "Also print the deleted key-value pairs." };
        var hex = HexOption();
        var command = new Command("del", "Delete a key or a range (prints how many keys were deleted).") { key, rangeEnd, prefix, fromKey, prevKv, hex };
        ClientCommand.SetClientAction(command, async (parse, connection, output, format, cancellation) =>
        {
            var isHex = parse.GetValue(hex);
            var (from, to) = KeyRange.Build(Bytes(PositionalArguments.Checked(parse, parse.GetValue(key), "key"), isHex, "key"), RangeEnd(PositionalArguments.Checked(parse, parse.GetValue(rangeEnd), "range_end"), isHex), parse.GetValue(prefix), parse.GetValue(fromKey));
            var request = new DeleteRangeRequest { Key = from, RangeEnd = to, PrevKv = parse.GetValue(prevKv) };
            var response = await connection.CallAsync((i, options) => connection.Kv(i).DeleteRangeAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            KvPrinter.Delete(new ByteOutput(output), response, new KvView(format, isHex));
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
        var hex = new Option<bool>("--hex") { Description = "Keys and values in the compares and operations are hex, and keys and values are printed as hex." };
        var command = new Command("txn", "Run a transaction: if every compare holds, the then-operations, else the else-operations, atomically. Without --compare/--then/--else it reads etcdctl's txn format from stdin.")
        {
            compares, then, otherwise, hex,
        };
        ClientCommand.SetClientAction(command, async (parse, connection, output, format, cancellation) =>
        {
            var isHex = parse.GetValue(hex);
            var c = parse.GetValue(compares) ?? [];
            var t = parse.GetValue(then) ?? [];
            var e = parse.GetValue(otherwise) ?? [];
            var request = c.Length + t.Length + e.Length > 0
                ? TxnSyntax.Build(c, t, e, isHex)
                : TxnSyntax.ParseScript(await Console.In.ReadToEndAsync(cancellation).ConfigureAwait(false), isHex);
            var response = await connection.CallAsync((i, options) => connection.Kv(i).TxnAsync(request, options).ResponseAsync, cancellation).ConfigureAwait(false);
            KvPrinter.Txn(new ByteOutput(output), response, new KvView(format, isHex));
            return 0;
        });
        return command;
    }

    private static Option<bool> HexOption() => new("--hex") { Description = "Keys and values on the command line (and in --value-file or stdin) are hex (01feff or \\x01\\xfe\\xff); print them as hex." };

    private static Argument<string?> RangeEndArgument() => new("range_end") { Description = "The end of the range, exclusive: [KEY, RANGE_END).", Arity = ArgumentArity.ZeroOrOne };

    private static ByteString Key(string? key, bool hex)
    {
        var bytes = Bytes(key, hex, "key");
        return bytes.IsEmpty ? throw new ClientInputException("key", "the key is empty") : bytes;
    }

    private static ByteString Bytes(string? text, bool hex, string argument) => KvBytes.FromArgument(text ?? "", hex, argument);

    private static ByteString? RangeEnd(string? text, bool hex) => text is null ? null : Bytes(text, hex, "range_end");

    private static RangeRequest.Types.SortTarget SortTarget(string? text) => text?.ToUpperInvariant() switch
    {
        null or "" or "KEY" => RangeRequest.Types.SortTarget.Key,
        "CREATE" => RangeRequest.Types.SortTarget.Create,
        "MODIFY" => RangeRequest.Types.SortTarget.Mod,
        "VALUE" => RangeRequest.Types.SortTarget.Value,
        "VERSION" => RangeRequest.Types.SortTarget.Version,
        _ => throw new ClientInputException("sort-by", $"--sort-by is '{text}'; use CREATE, KEY, MODIFY, VALUE or VERSION"),
    };

    private static RangeRequest.Types.SortOrder SortOrder(string? text) => text?.ToUpperInvariant() switch
    {
        null or "" => RangeRequest.Types.SortOrder.None,
        "ASCEND" => RangeRequest.Types.SortOrder.Ascend,
        "DESCEND" => RangeRequest.Types.SortOrder.Descend,
        _ => throw new ClientInputException("order", $"--order is '{text}'; use ASCEND or DESCEND"),
    };
}
