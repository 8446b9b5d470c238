using System.CommandLine;
using System.Globalization;
using Grpc.Core;

namespace Bulwark.Cli.Client;

/// <summary>
/// What the client commands share: --endpoints, --timeout, -w/--json, and turning errors into a message and exit code:
/// 0 done, 1 the cluster answered with an error or could not be reached, 2 bad input (nothing was sent).
/// </summary>
public static class ClientCommand
{
    public const int ExitFailed = 1;
    public const int ExitBadInput = 2;

    public static Option<string> EndpointsOption() => new("--endpoints")
    {
        Description = "Client endpoints, comma-separated: host:port, http://host:port, or a port reusing the host before it.",
        DefaultValueFactory = _ => ClientEndpoints.Default,
    };

    public static Option<double> TimeoutOption() => new("--timeout")
    {
        Description = "Seconds to wait for each call.",
        DefaultValueFactory = _ => 10,
    };

    /// <summary>etcdctl's TLS flags: the CA to trust, and the client certificate and key to present.</summary>
    public static (Option<string> CaCert, Option<string> Cert, Option<string> Key) TlsOptions() =>
    (
        new("--cacert") { Description = "PEM CA bundle the members' certificates must chain to (https endpoints; endpoints without a scheme become https)." },
        new("--cert") { Description = "PEM client certificate to present (members with --client-cert-auth require one)." },
        new("--key") { Description = "PEM private key of --cert." }
    );

    public static Option<bool> JsonOption() => new("--json") { Description = "Print JSON instead of text (short for -w json)." };

    /// <summary>Adds --endpoints, --timeout, -w and --json to <paramref name="command"/> and runs <paramref name="body"/> as its action.</summary>
    public static void SetClientAction(Command command, Func<ParseResult, EtcdConnection, TextWriter, OutputFormat, CancellationToken, Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(command);
        ArgumentNullException.ThrowIfNull(body);
        var endpoints = EndpointsOption();
        var timeout = TimeoutOption();
        var json = JsonOption();
        var writeOut = OutputFormatOption.Create();
        command.Options.Add(endpoints);
        command.Options.Add(timeout);
        command.Options.Add(writeOut);
        command.Options.Add(json);
        var (caCert, cert, key) = TlsOptions();
        command.Options.Add(caCert);
        command.Options.Add(cert);
        command.Options.Add(key);
        command.SetAction(async (parse, cancellation) =>
        {
            var config = parse.InvocationConfiguration;
            try
            {
                var seconds = parse.GetValue(timeout);
                if (!double.IsFinite(seconds) || seconds <= 0)
                {
                    throw new ClientInputException("timeout", $"--timeout is {seconds.ToString(CultureInfo.InvariantCulture)}; it must be a number of seconds > 0");
                }

                var format = OutputFormatOption.Resolve(parse.GetValue(writeOut), parse.GetValue(json), parse.GetResult(writeOut) is { Implicit: false });
                var tls = ClientTls(parse.GetValue(caCert), parse.GetValue(cert), parse.GetValue(key));
                using var connection = new EtcdConnection(ClientEndpoints.Parse(parse.GetValue(endpoints)!, tls is not null), TimeSpan.FromSeconds(seconds), tls);
                return await body(parse, connection, config.Output, format, cancellation).ConfigureAwait(false);
            }
            catch (ClientInputException e)
            {
                await config.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return ExitBadInput;
            }
            catch (Bulwark.Server.Security.CertificateFileException e)
            {
                await config.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return ExitBadInput;
            }
            catch (RpcException e)
            {
                await config.Error.WriteLineAsync($"error: {e.Status.Detail} (gRPC {e.StatusCode}){RequestTooLarge.Hint(e)}").ConfigureAwait(false);
                return ExitFailed;
            }
        });
    }

    /// <summary>Client TLS from etcdctl's flags; null when none is given.</summary>
    public static Bulwark.Server.Security.TlsCredentials? ClientTls(string? caCert, string? cert, string? key)
    {
        if (caCert is null && cert is null && key is null)
        {
            return null;
        }

        if ((cert is null) != (key is null))
        {
            throw new ClientInputException(cert is null ? "cert" : "key", "--cert and --key go together; only one is given");
        }

        return Bulwark.Server.Security.TlsCredentials.ForClient(caCert, cert, key);
    }
}
