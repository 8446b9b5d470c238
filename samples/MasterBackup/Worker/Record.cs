using System.Text.Json.Serialization;

namespace MasterBackup.Worker;

/// <summary>
/// One appended record, stored as JSON at <c>{prefix}{N:D10}</c>: its number, the instance that wrote it and the
/// fencing token (the leader key's create revision) it was written under.
/// </summary>
public sealed record Record(
    [property: JsonPropertyName("n")] long N,
    [property: JsonPropertyName("instance")] string Instance,
    [property: JsonPropertyName("token")] long Token);

/// <summary>Source-generated JSON for the sample's types (trimming-safe, no reflection).</summary>
[JsonSerializable(typeof(Record))]
[JsonSerializable(typeof(WorkerStatus))]
[JsonSerializable(typeof(AppendAnswer))]
internal sealed partial class SampleJson : JsonSerializerContext;

/// <summary>GET /status.</summary>
public sealed record WorkerStatus(
    [property: JsonPropertyName("instance")] string Instance,
    [property: JsonPropertyName("url")] string Url,
    [property: JsonPropertyName("isLeader")] bool IsLeader,
    [property: JsonPropertyName("token")] long? Token,
    [property: JsonPropertyName("lastN")] long? LastN);

/// <summary>POST /records' answer: the record appended, or why not (and where the master is).</summary>
public sealed record AppendAnswer(
    [property: JsonPropertyName("n")] long? N,
    [property: JsonPropertyName("instance")] string Instance,
    [property: JsonPropertyName("token")] long? Token,
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("master")] string? Master);
