using Bulwark.Client.Hosting;
using MasterBackup;
using MasterBackup.Worker;

// The MasterBackup worker: run three (one master, two backups). See samples/MasterBackup/README.md.
WorkerSettings settings;
try
{
    settings = WorkerSettings.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var builder = WebApplication.CreateSlimBuilder();
builder.WebHost.UseUrls(settings.Url);
builder.Logging.AddSampleConsole();

builder.Services.AddSingleton(settings);
builder.Services.AddBulwarkClient(o => o.Endpoints = [.. settings.Endpoints]);
builder.Services.AddBulwarkLeaderElection(o =>
{
    o.ElectionName = settings.Election;
    // Observers (the router, backups answering 503) learn where the master is from the election's value.
    o.InstanceValue = settings.Url;
    o.SessionTtl = settings.SessionTtl;
    o.ReleaseOnDisconnect = settings.ReleaseOnDisconnect;
});
builder.Services.AddSingleton<RecordAppender>();
builder.Services.AddHostedService(provider => provider.GetRequiredService<RecordAppender>());

var app = builder.Build();
WorkerLog.Starting(app.Services.GetRequiredService<ILogger<RecordAppender>>(), settings);

app.MapGet("/status", (RecordAppender appender) => Results.Json(
    new WorkerStatus(settings.Instance, settings.Url, appender.IsLeader, appender.CurrentToken?.Revision, appender.LastN),
    SampleJson.Default.WorkerStatus));

app.MapPost("/records", async (RecordAppender appender, CancellationToken cancellationToken) =>
{
    var (outcome, record) = await appender.AppendNowAsync(cancellationToken);
    switch (outcome)
    {
        case AppendOutcome.Appended:
            return Results.Json(new AppendAnswer(record!.N, settings.Instance, record.Token, null, settings.Url), SampleJson.Default.AppendAnswer);
        case AppendOutcome.Refused:
            return Results.Json(
                new AppendAnswer(null, settings.Instance, null, "fencing: write refused, this instance is no longer the master", null),
                SampleJson.Default.AppendAnswer,
                statusCode: StatusCodes.Status409Conflict);
        case AppendOutcome.Failed:
            return Results.Json(
                new AppendAnswer(null, settings.Instance, null, "the write failed or timed out; its outcome is unknown", settings.Url),
                SampleJson.Default.AppendAnswer,
                statusCode: StatusCodes.Status500InternalServerError);
        default:
            var leader = await TryGetLeaderAsync(appender, cancellationToken);
            return Results.Json(
                new AppendAnswer(null, settings.Instance, null, leader is null ? "not the master, and no master is known right now" : "not the master", leader),
                SampleJson.Default.AppendAnswer,
                statusCode: StatusCodes.Status503ServiceUnavailable);
    }
});

await app.RunAsync();
return 0;

static async Task<string?> TryGetLeaderAsync(RecordAppender appender, CancellationToken cancellationToken)
{
    try
    {
        return (await appender.GetLeaderAsync(cancellationToken))?.Value;
    }
    catch (Exception e) when (e is not OperationCanceledException)
    {
        // The 503 still answers; only the master's address is missing.
        return null;
    }
}
