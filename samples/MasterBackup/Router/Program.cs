using Bulwark.Client.Hosting;
using MasterBackup;
using MasterBackup.Router;

// The MasterBackup router: forwards POST /records to whichever worker is master. See samples/MasterBackup/README.md.
RouterSettings settings;
try
{
    settings = RouterSettings.Parse(args);
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
builder.Services.AddSingleton<MasterObserver>();
builder.Services.AddHostedService(provider => provider.GetRequiredService<MasterObserver>());
builder.Services.AddHttpClient("master", c => c.Timeout = TimeSpan.FromSeconds(10));

var app = builder.Build();

app.MapGet("/master", (MasterObserver observer) => observer.Current is { } master
    ? Results.Text(master.Value + "\n")
    : Results.Text("no master right now\n", statusCode: StatusCodes.Status503ServiceUnavailable));

app.MapPost("/records", async (MasterObserver observer, IHttpClientFactory http, CancellationToken cancellationToken) =>
{
    if (observer.Current is not { } master)
    {
        return Results.Text($"no master for election '{settings.Election}' right now; try again in a moment\n", statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    try
    {
        using var response = await http.CreateClient("master").PostAsync(new Uri(new Uri(master.Value), "records"), content: null, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return Results.Text(body, "application/json", statusCode: (int)response.StatusCode);
    }
    catch (HttpRequestException e)
    {
        // The master died and the election has not moved on yet (at most its lease's TTL).
        return Results.Text($"master {master.Value} is unreachable ({e.Message}); a backup takes over when its lease ends\n", statusCode: StatusCodes.Status502BadGateway);
    }
});

await app.RunAsync();
return 0;
