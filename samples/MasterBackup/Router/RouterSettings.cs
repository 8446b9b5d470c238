namespace MasterBackup.Router;

/// <summary>The router's command line.</summary>
public sealed record RouterSettings(string Url, IReadOnlyList<string> Endpoints, string Election)
{
    public const string Usage = "usage: MasterBackup.Router --url http://127.0.0.1:5100 --endpoints http://127.0.0.1:2379[,...] [--election masterbackup]";

    public static RouterSettings Parse(IReadOnlyList<string> args)
    {
        var values = SampleArguments.Parse(args, ["--url", "--endpoints", "--election"], Usage);
        return new RouterSettings(
            SampleArguments.Required(values, "--url", Usage),
            SampleArguments.Endpoints(values, Usage),
            values.GetValueOrDefault("--election", "masterbackup"));
    }
}
