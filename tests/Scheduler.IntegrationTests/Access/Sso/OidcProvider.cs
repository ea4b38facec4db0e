using System.Diagnostics;
using System.Text.Json;
using Scheduler.IntegrationTests.Infrastructure;

namespace Scheduler.IntegrationTests.Access.Sso;

/// <summary>
/// A real OpenID Connect provider on loopback: npm's oidc-provider run by Node.js from
/// tests/oidc/provider.mjs (its packages installed by test.sh through scripts/oidc.sh), with one
/// static confidential client and the test accounts of a JSON file this class writes.
/// </summary>
public sealed class OidcProvider : IAsyncDisposable
{
    public const string ClientId = "scheduler";
    public const string ClientSecret = "scheduler-test-secret";

    private readonly Process _process;
    private readonly string _accounts;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output;

    public Uri Issuer { get; }

    private OidcProvider(Process process, string accounts, Uri issuer, System.Collections.Concurrent.ConcurrentQueue<string> output) =>
        (_process, _accounts, Issuer, _output) = (process, accounts, issuer, output);

    /// <summary>Starts the provider; <see cref="ReadyAsync"/> gives it the client's redirect URI.</summary>
    public static async Task<OidcProvider> StartAsync(IReadOnlyDictionary<string, string[]> groupsByAccount)
    {
        var folder = Repository.PathOf("tests", "oidc");
        Assert.True(Directory.Exists(Path.Combine(folder, "node_modules", "oidc-provider")), "tests/oidc/node_modules is missing: ./test.sh installs it (scripts/oidc.sh, npm ci)");
        var accounts = Path.Combine(Directory.CreateTempSubdirectory("scheduler-oidc-").FullName, "accounts.json");
        WriteAccounts(accounts, groupsByAccount);
        var start = new ProcessStartInfo("node") { WorkingDirectory = folder, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("provider.mjs");
        start.Environment["OIDC_ACCOUNTS"] = accounts;
        start.Environment["OIDC_CLIENT_ID"] = ClientId;
        start.Environment["OIDC_CLIENT_SECRET"] = ClientSecret;
        var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await process.StandardOutput.ReadLineAsync(timeout.Token);
        Assert.True(line?.StartsWith("issuer ", StringComparison.Ordinal) == true, $"the OIDC provider did not start: {line} {string.Join('\n', output)}");
        return new OidcProvider(process, accounts, new Uri(line!["issuer ".Length..]), output);
    }

    /// <summary>Registers the client's redirect URI and waits until the provider serves.</summary>
    public async Task ReadyAsync(Uri redirectUri)
    {
        await _process.StandardInput.WriteLineAsync(redirectUri.ToString());
        await _process.StandardInput.FlushAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var line = await _process.StandardOutput.ReadLineAsync(timeout.Token);
        Assert.True(line == "ready", $"the OIDC provider is not ready: {line} {string.Join('\n', _output)}");
    }

    /// <summary>Sets every account's groups (read again by the provider at each sign-in).</summary>
    public void SetAccounts(IReadOnlyDictionary<string, string[]> groupsByAccount) => WriteAccounts(_accounts, groupsByAccount);

    private static void WriteAccounts(string path, IReadOnlyDictionary<string, string[]> groupsByAccount)
    {
        var json = JsonSerializer.Serialize(groupsByAccount.ToDictionary(a => a.Key, a => new { groups = a.Value }));
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, json);
        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>What the provider logged (for failure messages).</summary>
    public string Log => string.Join('\n', _output);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        Directory.Delete(Path.GetDirectoryName(_accounts)!, recursive: true);
    }
}
