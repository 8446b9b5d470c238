using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Bulwark.Cli.Supervision;

/// <summary>Asks a child to stop the polite way (SIGTERM), which .NET's Process API cannot send.</summary>
internal static partial class ProcessSignals
{
    private const int Sigterm = 15;

    /// <summary>Sends SIGTERM on Unix; on Windows there is no equivalent for a console child, so it is killed.</summary>
    public static void Terminate(Process process)
    {
        if (OperatingSystem.IsWindows())
        {
            process.Kill(entireProcessTree: true);
            return;
        }

        if (Kill(process.Id, Sigterm) != 0 && !process.HasExited)
        {
            process.Kill(entireProcessTree: true);
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
