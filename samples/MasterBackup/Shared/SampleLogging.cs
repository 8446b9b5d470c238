using Microsoft.Extensions.Logging;

namespace MasterBackup;

/// <summary>
/// The samples' console logging: one UTC-stamped line per event (the process tests and the README read these lines),
/// and the framework's own chatter kept to warnings so the sample's decisions stand out.
/// </summary>
internal static class SampleLogging
{
    public static ILoggingBuilder AddSampleConsole(this ILoggingBuilder logging)
    {
        logging.ClearProviders();
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.UseUtcTimestamp = true;
        });
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("System.Net.Http", LogLevel.Warning);
        logging.AddFilter("Grpc", LogLevel.Warning);
        return logging;
    }
}
