using System.Globalization;
using Prometheus;

namespace Bulwark.Server.Observability;

/// <summary>
/// The process and runtime series that prometheus-net's <see cref="DotNetStats"/> (process_cpu_seconds_total,
/// process_start_time_seconds, dotnet_collection_count_total, dotnet_total_memory_bytes, ...) leaves out but tools
/// expect under the Prometheus client conventions: process_resident_memory_bytes (etcdctl check datascale reads it),
/// process_open_fds and process_max_fds, the GC heap size and the thread pool. Registered on a node's own registry and
/// read at each collection.
/// </summary>
internal static class ProcessMetrics
{
    public static void Register(CollectorRegistry registry)
    {
        var f = Prometheus.Metrics.WithCustomRegistry(registry);
        var resident = f.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
        var openFds = f.CreateGauge("process_open_fds", "Number of open file descriptors.");
        var maxFds = f.CreateGauge("process_max_fds", "Maximum number of open file descriptors.");
        var heap = f.CreateGauge("dotnet_gc_heap_size_bytes", "Bytes of the GC heap as of the last collection (fragmentation included).");
        var threads = f.CreateGauge("dotnet_threadpool_threads", "Thread pool threads that currently exist.");
        var queued = f.CreateGauge("dotnet_threadpool_queue_length", "Work items queued to the thread pool and not yet started.");
        var completed = f.CreateCounter("dotnet_threadpool_completed_items_total", "Work items the thread pool has completed.");
        var maxOpen = MaxOpenFiles();
        registry.AddBeforeCollectCallback(() =>
        {
            resident.Set(Environment.WorkingSet);
            openFds.Set(OpenFileDescriptors());
            maxFds.Set(maxOpen);
            heap.Set(GC.GetGCMemoryInfo().HeapSizeBytes);
            threads.Set(ThreadPool.ThreadCount);
            queued.Set(ThreadPool.PendingWorkItemCount);
            completed.IncTo(ThreadPool.CompletedWorkItemCount);
        });
    }

    /// <summary>Entries of /proc/self/fd on Linux; the handle count elsewhere.</summary>
    private static double OpenFileDescriptors()
    {
        try
        {
            if (Directory.Exists("/proc/self/fd"))
            {
                return Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _ = e;
        }

        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.HandleCount;
    }

    /// <summary>The soft "Max open files" limit from /proc/self/limits; 0 when unknown (not Linux) or unlimited.</summary>
    private static double MaxOpenFiles()
    {
        try
        {
            var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            var fields = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields is { Length: > 0 } && double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var soft) ? soft : 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
