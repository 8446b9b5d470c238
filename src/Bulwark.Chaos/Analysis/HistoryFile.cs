using System.Text.Json;
using System.Text.Json.Serialization;
using Bulwark.Chaos.Workload;
using Bulwark.Verification;

namespace Bulwark.Chaos.Analysis;

/// <summary>One history operation as written to history.json: the call, its output (null when unknown) and its place
/// on the recorder's clock (<see cref="Return"/> is null for an unknown outcome).</summary>
public sealed record HistoryEntry(long Id, int Client, string Kind, string Key, string? Value, string? Expected, string? Read, bool? Succeeded, bool Unknown, long Call, long? Return)
{
    public static HistoryEntry From(Operation<KvInput, KvOutput> op)
    {
        ArgumentNullException.ThrowIfNull(op);
        return new(
            op.Id,
            op.ClientId,
            op.Input.Kind.ToString().ToLowerInvariant(),
            op.Input.Key,
            op.Input.Value,
            op.Input.Expected,
            op.Output?.Value,
            op.Output?.Succeeded,
            op.IsUnknown,
            op.Call,
            op.IsUnknown ? null : op.Return);
    }

    public Operation<KvInput, KvOutput> ToOperation()
    {
        var input = Kind switch
        {
            "get" => KvInput.Get(Key),
            "put" => KvInput.Put(Key, Value ?? throw new ChaosInputException("--history", $"operation {Id}: a put without a value")),
            "compareandset" => KvInput.CompareAndSet(Key, Expected, Value ?? throw new ChaosInputException("--history", $"operation {Id}: a cas without a value")),
            "delete" => KvInput.Delete(Key),
            _ => throw new ChaosInputException("--history", $"operation {Id}: unknown kind '{Kind}'"),
        };
        if (Unknown)
        {
            return Operation<KvInput, KvOutput>.Unknown(Id, Client, input, Call);
        }

        if (Return is not { } ret || ret < Call)
        {
            throw new ChaosInputException("--history", $"operation {Id}: return {Return?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "missing"} before its call {Call}");
        }

        var output = Kind == "get" ? KvOutput.Read(Read) : Kind == "compareandset" ? KvOutput.Swapped(Succeeded ?? false) : KvOutput.Written;
        return Operation<KvInput, KvOutput>.Completed(Id, Client, input, output, Call, ret);
    }
}

/// <summary>history.json: the linearizable history, the serializable reads apart, and every call's event.</summary>
public sealed record HistoryFile(IReadOnlyList<HistoryEntry> Operations, IReadOnlyList<SerializableRead> SerializableReads, IReadOnlyList<OpEvent> Events)
{
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public IReadOnlyList<Operation<KvInput, KvOutput>> History() => Operations.Select(e => e.ToOperation()).ToList();

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    public static HistoryFile Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ChaosInputException("--history", $"no such file: {path}");
        }

        try
        {
            return JsonSerializer.Deserialize<HistoryFile>(File.ReadAllText(path), Json)
                ?? throw new ChaosInputException("--history", $"{path} holds no history");
        }
        catch (JsonException e)
        {
            throw new ChaosInputException("--history", $"{path} is not a chaos history.json: {e.Message}");
        }
    }
}
