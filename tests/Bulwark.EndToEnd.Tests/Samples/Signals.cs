using System.Runtime.InteropServices;

namespace Bulwark.EndToEnd.Tests.Samples;

/// <summary>SIGTERM, SIGSTOP and SIGCONT, which .NET's Process API cannot send: a process frozen as a long GC pause would freeze it.</summary>
internal static class Signals
{
    private const int Sigterm = 15;
    private const int Sigcont = 18;
    private const int Sigstop = 19;

    /// <summary>Asks the process to shut down gracefully (the .NET host stops its hosted services).</summary>
    public static void Terminate(int pid) => Send(pid, Sigterm, "SIGTERM");

    public static void Stop(int pid) => Send(pid, Sigstop, "SIGSTOP");

    public static void Continue(int pid) => Send(pid, Sigcont, "SIGCONT");

    private static void Send(int pid, int signal, string name)
    {
        if (Kill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"{name} to {pid} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
